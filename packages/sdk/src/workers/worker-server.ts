import type { Reply } from './worker-client';

/** What a handler answers: fields added to the successful reply, and buffers to transfer with it. */
export interface Answer<Fields extends object> {
  readonly reply?: Fields;
  readonly transfer?: Transferable[];
}

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: Reply<object>, transfer?: Transferable[]): void;
}

/**
 * The worker side of WorkerClient: requests are handled one at a time, in arrival order, and
 * each gets one reply with its id — the handler's answer, or its error's name and message.
 */
export function serveRequests<Request extends { readonly id: number }, Fields extends object>(
  handle: (request: Request) => Promise<Answer<Fields> | void>,
): void {
  const scope = globalThis as unknown as WorkerScope;
  let queue: Promise<void> = Promise.resolve();
  scope.onmessage = (event) => {
    const request = event.data as Request;
    queue = queue.then(async () => {
      try {
        const answer = (await handle(request)) ?? {};
        scope.postMessage({ ...answer.reply, id: request.id, ok: true }, answer.transfer ?? []);
      } catch (error) {
        const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
        scope.postMessage({ id: request.id, ok: false, error: { name, message } });
      }
    });
  };
}
