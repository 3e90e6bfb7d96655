/**
 * Channel options for connections between a host and its plugins. go-plugin
 * raises the client limits to 2^31-1 bytes; grpc-js takes -1 for "unlimited".
 */
export const unlimitedMessageSize = {
  "grpc.max_receive_message_length": -1,
  "grpc.max_send_message_length": -1,
} as const;
