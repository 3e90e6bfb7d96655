import type { Metadata } from "@grpc/grpc-js";

/** One method of a ts-proto `outputServices=grpc-js` service definition. */
export interface MethodDefinition<Req, Res> {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly requestSerialize: (value: Req) => Buffer;
  readonly requestDeserialize: (value: Buffer) => Req;
  readonly responseSerialize: (value: Res) => Buffer;
  readonly responseDeserialize: (value: Buffer) => Res;
}

// biome-ignore lint: definitions are heterogeneous by nature
export type ServiceDefinition = { readonly [method: string]: MethodDefinition<any, any> };

export type RequestOf<M> = M extends { requestDeserialize: (value: Buffer) => infer R } ? R : never;
export type ResponseOf<M> = M extends { responseDeserialize: (value: Buffer) => infer R } ? R : never;

/** What a handler learns about the call besides its messages. */
export interface CallContext {
  readonly method: string;
  readonly metadata: Metadata;
  readonly peer: string;
  /** Aborted when the caller cancels or the deadline passes. */
  readonly signal: AbortSignal;
  /**
   * What the server was told about the call's connection when it was handed
   * the accepted socket (`H2Server.injectConnection`), e.g. the peer process
   * read from the kernel; undefined on servers that accept by themselves.
   */
  readonly connection?: unknown;
}

/** A handler in promise/async-iterator style, chosen by the method's streaming shape. */
export type AsyncHandler<M> = M extends { requestStream: false; responseStream: false }
  ? (request: RequestOf<M>, ctx: CallContext) => Promise<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (request: RequestOf<M>, ctx: CallContext) => AsyncIterable<ResponseOf<M>>
    : M extends { requestStream: true; responseStream: false }
      ? (requests: AsyncIterable<RequestOf<M>>, ctx: CallContext) => Promise<ResponseOf<M>>
      : (requests: AsyncIterable<RequestOf<M>>, ctx: CallContext) => AsyncIterable<ResponseOf<M>>;

/** A whole service in async style. Methods left out answer Unimplemented. */
export type AsyncService<S extends ServiceDefinition> = { [K in keyof S]: AsyncHandler<S[K]> };

/** Options every client call accepts. */
export interface CallOptions {
  /** Absolute deadline (Date or epoch ms) or, as a number below 1e12, a timeout in ms. */
  readonly deadline?: Date | number;
  readonly metadata?: Metadata;
  readonly signal?: AbortSignal;
}

/** A bidirectional call from the client side. */
export interface BidiCall<Req, Res> extends AsyncIterable<Res> {
  send(message: Req): void;
  /** Half-closes the request side. */
  end(): void;
  cancel(): void;
}

export type ClientMethod<M> = M extends { requestStream: false; responseStream: false }
  ? (request: RequestOf<M>, options?: CallOptions) => Promise<ResponseOf<M>>
  : M extends { requestStream: false; responseStream: true }
    ? (request: RequestOf<M>, options?: CallOptions) => AsyncIterable<ResponseOf<M>>
    : M extends { requestStream: true; responseStream: false }
      ? (requests: AsyncIterable<RequestOf<M>> | Iterable<RequestOf<M>>, options?: CallOptions) => Promise<ResponseOf<M>>
      : (options?: CallOptions) => BidiCall<RequestOf<M>, ResponseOf<M>>;

export type AsyncClient<S extends ServiceDefinition> = { readonly [K in keyof S]: ClientMethod<S[K]> };
