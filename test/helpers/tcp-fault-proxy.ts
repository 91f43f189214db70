import net from 'node:net';

/**
 * A TCP relay between a client and a real server that can fail the way networks do: reset every
 * connection, stall (accept and swallow bytes, never answer), or refuse connections (server down).
 * Nothing in the protocol is imitated: bytes pass through untouched while it is healthy.
 */
export class TcpFaultProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private stalled = false;
  port = 0;

  private constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Starts relaying a loopback port to host:port. */
  static async start(targetHost: string, targetPort: number): Promise<TcpFaultProxy> {
    const proxy = new TcpFaultProxy(targetHost, targetPort);
    await proxy.up();
    return proxy;
  }

  private track(socket: net.Socket) {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  private handle(client: net.Socket) {
    this.track(client);
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.track(upstream);
    client.on('data', (chunk) => {
      if (!this.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.stalled) client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** The address clients connect to. */
  get url(): string {
    return `ldap://127.0.0.1:${this.port}`;
  }

  /** Accepts connections again (on the same port after `down`). */
  async up(): Promise<void> {
    const server = net.createServer((s) => this.handle(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  /** Sends a TCP reset on every open connection (ECONNRESET on the client). */
  reset(): void {
    for (const s of this.sockets) s.resetAndDestroy();
  }

  /** Stops answering: bytes are swallowed both ways, connections stay open (a hung server). */
  stall(): void {
    this.stalled = true;
  }

  /** Relays again after `stall`. */
  heal(): void {
    this.stalled = false;
  }

  /** Refuses new connections and resets open ones (the server is down). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.reset();
    if (server) await new Promise((r) => server.close(r));
  }

  async stop(): Promise<void> {
    this.heal();
    await this.down();
  }
}
