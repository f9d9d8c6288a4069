/** The slice of a Worker a client uses (tests pass a fake). */
export interface WorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  addEventListener(type: 'error' | 'messageerror', listener: (event: Event) => void): void;
  terminate(): void;
}

/** Every reply names the request it answers; failures carry the error's name and message. */
export type Reply<Ok> =
  | (Ok & { readonly id: number; readonly ok: true })
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

/** A request union without its ids (the client assigns them). */
export type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

/**
 * Request/reply over a worker's messages: each request gets an id and a promise for its reply;
 * a worker that fails to load or crashes rejects everything pending, and every later request.
 */
export class WorkerClient<Request extends { readonly id: number }, Ok extends object> {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (reply: Ok) => void; reject: (error: Error) => void }>();
  private failure: Error | undefined;
  private readonly failureListeners: ((error: Error) => void)[] = [];

  constructor(
    private readonly worker: WorkerLike,
    private readonly name: string,
  ) {
    worker.addEventListener('message', (event: MessageEvent) => this.settle(event.data as Reply<Ok>));
    const fail = (event: Event) => this.fail(new Error(`${name} failed: ${(event as ErrorEvent).message ?? event.type}`));
    worker.addEventListener('error', fail);
    worker.addEventListener('messageerror', fail);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Sends `message` (given a fresh id) and resolves with the worker's successful reply. */
  request(message: WithoutId<Request>, transfer: Transferable[] = []): Promise<Ok> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...message, id }, transfer);
      } catch (error) {
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Called once, with the error, if the worker fails (or is terminated). */
  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  terminate(): void {
    this.worker.terminate();
    this.fail(new Error(`${this.name} terminated`));
  }

  private settle(reply: Reply<Ok>): void {
    const waiter = this.pending.get(reply.id);
    if (!waiter) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply);
    else waiter.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name }));
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
    for (const listener of this.failureListeners) listener(error);
  }
}
