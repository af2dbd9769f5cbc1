/**
 * What the work loop should do after a reconcile. The only two ways to ask for another run; the loop,
 * not the reconciler, owns the queue (kube-rs `Action`, controller-runtime `Result{RequeueAfter}`).
 */
export type Action =
  | { readonly kind: 'requeue'; readonly afterMs: number }
  | { readonly kind: 'awaitChange' };

export const Action = Object.freeze({
  requeue: (afterMs: number): Action => ({ kind: 'requeue', afterMs }),
  awaitChange: (): Action => ({ kind: 'awaitChange' }),
});
