// The web host's WebSocket side: the /ws upgrade (same Host/Origin and token checks as the API) and the
// broadcast of service events to every connected client, with back-pressure.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseTarget } from './request-target';
import type { WebRequestHandler } from './request-handler';

export class EventSockets {
  readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  constructor(
    private readonly handler: WebRequestHandler,
    private readonly maxWsBuffered: number,
  ) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, text: string) => {
      if (socket.writable) socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    socket.on('error', () => socket.destroy());
    try {
      const target = parseTarget(req.url);
      if (typeof target === 'string') return refuse(400, 'Bad Request');
      if (target.pathname !== '/ws') return refuse(404, 'Not Found');
      if (this.handler.headerOk(req)) return refuse(403, 'Forbidden');
      if (!this.handler.tokenOk(req, target.query)) return refuse(401, 'Unauthorized');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        ws.on('error', () => this.sockets.delete(ws));
      });
    } catch {
      refuse(400, 'Bad Request');
    }
  }

  broadcast(event: unknown): void {
    const text = JSON.stringify(event);
    for (const ws of this.sockets) {
      if (ws.readyState !== ws.OPEN) continue;
      // Back-pressure: a client that does not read its events is closed, not buffered without end.
      if (ws.bufferedAmount > this.maxWsBuffered) {
        this.sockets.delete(ws);
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
  }
}
