// Test helpers for the machines: let provided promises settle, and a fake
// watcher whose events the test sends by hand.
import { fromCallback, type EventObject } from 'xstate';

/** Lets resolved promise actors deliver their done/error events. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A fromCallback watcher the test drives: `send` reaches the parent through the
 * most recently started watcher; `inputs` and `stopped` record what the machine did.
 */
export function fakeWatcher<TInput, TEvent extends EventObject>() {
  const inputs: TInput[] = [];
  let sendBack: ((event: EventObject) => void) | undefined;
  const watcher = {
    inputs,
    stopped: 0,
    logic: fromCallback<EventObject, TInput>(({ input, sendBack: send }) => {
      inputs.push(input);
      sendBack = send;
      return () => {
        watcher.stopped += 1;
      };
    }),
    send(event: TEvent) {
      if (!sendBack) throw new Error('no watcher has been started');
      sendBack(event);
    },
  };
  return watcher;
}

/** Records every call's input; answers with `answer(input, callNumber)`. */
export function recorder<TInput, TOutput>(answer: (input: TInput, call: number) => TOutput | Promise<TOutput>) {
  const calls: TInput[] = [];
  return {
    calls,
    run: async ({ input }: { input: TInput }) => {
      calls.push(input);
      return answer(input, calls.length);
    },
  };
}
