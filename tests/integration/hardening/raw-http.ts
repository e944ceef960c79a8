// Raw HTTP over a net socket (loopback only), for requests no HTTP client would send.
import { connect } from 'node:net';

/** Send `bytes` and collect everything until the server closes or `timeoutMs` passes; returns the status (0 = none). */
export function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One answer is enough: stop once the headers and a declared body are in.
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end >= 0) {
        const len = /content-length: *(\d+)/i.exec(text.slice(0, end));
        if (len && text.length - end - 4 >= Number(len[1])) finish();
      }
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}

/** Send `head` then one byte of body every `everyMs` until stop(): an upload slower than any idle timeout catches. */
export function trickleRequest(port: number, head: string, everyMs: number): { stop(): void; answer(): string } {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  socket.write(head);
  const timer = setInterval(() => {
    if (socket.writable) socket.write('A');
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
    answer: () => Buffer.concat(chunks).toString('latin1'),
  };
}
