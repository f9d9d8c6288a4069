import { Observable, from, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';

/**
 * Like `exhaustMap`, but reports what it drops: while `project`'s inner observable is running,
 * new source values are dropped (never queued), so a slow stage always works on a recent frame
 * and memory stays flat however slow it is.
 */
export function dropWhileBusy<T, R>(
  project: (value: T) => ObservableInput<R>,
  onDrop?: (value: T) => void,
): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      let inner: Subscription | undefined;
      let busy = false;
      let sourceComplete = false;
      const outer = source.subscribe({
        next(value) {
          if (busy) {
            onDrop?.(value);
            return;
          }
          busy = true;
          inner = from(project(value)).subscribe({
            next: (result) => subscriber.next(result),
            error: (error: unknown) => subscriber.error(error),
            complete: () => {
              busy = false;
              if (sourceComplete) subscriber.complete();
            },
          });
        },
        error: (error: unknown) => subscriber.error(error),
        complete() {
          sourceComplete = true;
          if (!busy) subscriber.complete();
        },
      });
      return () => {
        outer.unsubscribe();
        inner?.unsubscribe();
      };
    });
}
