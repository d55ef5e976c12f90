/**
 * Keep-alive connections to one model server, for the model client's invocations. Each socket's
 * listeners are installed once, when it is opened, and forward its events to whichever exchange
 * uses it at the moment; an idle socket that receives data or closes is dropped. Idle sockets do
 * not keep the process alive.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** What is using a connection right now: gets its socket's events. */
export interface ConnectionUser {
  onData(data: Buffer): void;
  onError(err: Error): void;
  onClose(): void;
  onDrain(): void;
}

/** One socket to the model server. */
export class Connection {
  user: ConnectionUser | undefined;
  /** Whether the socket carried a request before the current one. */
  reused = false;

  constructor(readonly socket: Socket, pool: ConnectionPool) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => {
      if (this.user !== undefined) this.user.onData(data);
      else socket.destroy(); // nothing may arrive on an idle connection
    });
    socket.on('error', (err) => this.user?.onError(err));
    socket.on('close', () => {
      pool.forget(this);
      this.user?.onClose();
    });
    socket.on('drain', () => this.user?.onDrain());
  }
}

/** Where the model server listens. */
export interface PoolAddress {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
}

/** The connections to one model server (no limit: the slot scheduler bounds the calls in flight). */
export class ConnectionPool {
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();

  constructor(private readonly address: PoolAddress) {}

  /** The most recently released idle connection, or a new one; either way now used by `user`. */
  acquire(user: ConnectionUser): Connection {
    let conn = this.idle.pop();
    if (conn !== undefined) {
      conn.reused = true;
      conn.socket.ref();
    } else {
      conn = new Connection(this.connect(), this);
      this.open.add(conn);
    }
    conn.user = user;
    return conn;
  }

  /** Takes back a connection whose exchange ended cleanly, for the next request. */
  release(conn: Connection): void {
    conn.user = undefined;
    if (conn.socket.destroyed || !this.open.has(conn)) return;
    conn.socket.resume();
    conn.socket.unref();
    this.idle.push(conn);
  }

  /** Closes a connection that must not carry another request. */
  discard(conn: Connection): void {
    conn.user = undefined;
    conn.socket.destroy();
  }

  /** Called when a socket closed. */
  forget(conn: Connection): void {
    this.open.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Closes every connection; exchanges in flight fail as their sockets close. */
  destroy(): void {
    for (const conn of [...this.open]) conn.socket.destroy();
  }

  private connect(): Socket {
    const { host, port, secure } = this.address;
    if (!secure) return netConnect({ host, port });
    return tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}) });
  }
}
