import { of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { dropWhileBusy } from '../src/frames/drop-while-busy';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('dropWhileBusy', () => {
  it('drops frames that arrive while the stage is busy and never queues them', () => {
    const dropped: string[] = [];
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const frames = hot('-a-b-c-d-e-f|');
      const work = { a: cold('---(a|)'), c: cold('---(c|)'), e: cold('---(e|)') };
      const stage = frames.pipe(
        dropWhileBusy((frame: string) => work[frame as keyof typeof work] ?? cold('---(x|)'), (frame) => dropped.push(frame)),
      );
      // b, d and f arrive mid-work: dropped. After a finishes, the stage waits for the next
      // *new* frame (c) rather than catching up on b.
      expectObservable(stage).toBe('----a---c---(e|)');
      expectSubscriptions(work.a.subscriptions).toBe('-^--!');
      expectSubscriptions(work.c.subscriptions).toBe('-----^--!');
    });
    expect(dropped).toEqual(['b', 'd', 'f']);
  });

  it('reports every drop', () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      const dropped: string[] = [];
      const stage = hot('abcd-fg|').pipe(dropWhileBusy(() => cold('----(r|)'), (f) => dropped.push(f)));
      expectObservable(stage).toBe('----r----(r|)');
      flush();
      expect(dropped).toEqual(['b', 'c', 'd', 'g']);
    });
  });

  it('passes everything through when the stage keeps up', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const stage = hot('-a-b-c|').pipe(dropWhileBusy((frame: string) => of(frame.toUpperCase())));
      expectObservable(stage).toBe('-A-B-C|');
    });
  });

  it('completes only after the running work completes', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const stage = hot('-a|').pipe(dropWhileBusy(() => cold('----(r|)')));
      expectObservable(stage).toBe('-----(r|)');
    });
  });

  it('forwards errors of the work', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const stage = hot('-a-b').pipe(dropWhileBusy(() => cold('-#')));
      expectObservable(stage).toBe('--#');
    });
  });

  it('unsubscribes the running work when unsubscribed', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const work = cold('------(r|)');
      const stage = hot('-a---').pipe(dropWhileBusy(() => work));
      expectObservable(stage, '^--!').toBe('---');
      expectSubscriptions(work.subscriptions).toBe('-^-!');
    });
  });
});
