/**
 * Gathers the requests of many per-image attacks into one batch per channel: every image's
 * attack runs as its own async procedure (written as the paper's per-image pseudo-code), and
 * when every live procedure is waiting, the waiting requests of each channel go out as one
 * call (one oracle request, one surrogate batch), so the worker pool always sees a full batch.
 */
export interface Channel<Request, Reply> {
  /** Serves a batch; replies[i] answers requests[i] (a reply may be an Error, which rejects that request only). */
  serve(requests: readonly Request[]): Promise<readonly (Reply | Error)[]>;
}

interface Waiting {
  readonly channel: Channel<unknown, unknown>;
  readonly request: unknown;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class Gather {
  private live = 0;
  private waiting: Waiting[] = [];

  /**
   * Runs the procedures together, their asks batched. All are counted live before the first
   * starts, so the first ask does not go out alone.
   */
  runAll<T>(procedures: readonly (() => Promise<T>)[]): Promise<T[]> {
    this.live += procedures.length;
    return Promise.all(
      procedures.map(async (procedure) => {
        try {
          return await procedure();
        } finally {
          this.live--;
          this.flushIfAllWaiting();
        }
      }),
    );
  }

  ask<Request, Reply>(channel: Channel<Request, Reply>, request: Request): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({
        channel: channel as Channel<unknown, unknown>,
        request,
        resolve: resolve as (reply: unknown) => void,
        reject,
      });
      this.flushIfAllWaiting();
    });
  }

  private flushIfAllWaiting(): void {
    if (this.waiting.length === 0 || this.waiting.length < this.live) return;
    const batch = this.waiting;
    this.waiting = [];
    const byChannel = new Map<Channel<unknown, unknown>, Waiting[]>();
    for (const w of batch) byChannel.set(w.channel, [...(byChannel.get(w.channel) ?? []), w]);
    for (const [channel, group] of byChannel) {
      channel.serve(group.map((w) => w.request)).then(
        (replies) =>
          group.forEach((w, i) => (replies[i] instanceof Error ? w.reject(replies[i]) : w.resolve(replies[i]))),
        (error: unknown) => group.forEach((w) => w.reject(error)),
      );
    }
  }
}
