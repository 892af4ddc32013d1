/**
 * The acknowledgement of an emit made after `socket.timeout(ms)`, typed. socket.io-client 4.8 types `emitWithAck`
 * after `timeout()` as `Promise<any>`; the callback form of `emit` keeps the acknowledgement's type. This turns that
 * callback into a promise that, as emitWithAck's, rejects with the timeout's error.
 */
export function acknowledged<T>(send: (callback: (error: Error | null, ack: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => send((error, ack) => (error ? reject(error) : resolve(ack))));
}
