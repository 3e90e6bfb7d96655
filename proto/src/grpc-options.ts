/**
 * Channel options for connections between a host and its plugins. go-plugin
 * raises the client limits to 2^31-1 bytes; grpc-js takes -1 for "unlimited".
 */
export const unlimitedMessageSize = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
} as const;

/**
 * grpc-js keeps channelz statistics for every channel, server and call
 * unless told not to; nobody reads them here, and the bookkeeping showed up
 * as a tenth of a Workload API call's CPU (bench/workload-api).
 */
export const noChannelz = { "grpc.enable_channelz": 0 } as const;
