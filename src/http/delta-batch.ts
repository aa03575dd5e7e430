/**
 * Streamed answer text, written in batches: the first piece goes out at once (time to first
 * token is untouched), later pieces that arrive within `windowMs` of the last write are joined
 * into one write. A model sends a token every few milliseconds; every Server-Sent Event costs a
 * write through the runtime (and the client a parse), and no reader sees 5 ms apart. The text
 * and its order are unchanged; call `flush()` before writing any other event.
 */
export const DELTA_WINDOW_MS = 25;

export interface DeltaBatch {
  push(text: string): Promise<void>;
  /** Writes what is buffered now. */
  flush(): Promise<void>;
}

export function batchDeltas(write: (text: string) => Promise<unknown>, windowMs = DELTA_WINDOW_MS): DeltaBatch {
  let buffered = '';
  let lastWrite = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = async (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (!buffered) return;
    const text = buffered;
    buffered = '';
    lastWrite = Date.now();
    await write(text);
  };
  return {
    async push(text) {
      if (!text) return;
      buffered += text;
      const wait = lastWrite + windowMs - Date.now();
      if (wait <= 0) return flush();
      // A write failing here has nowhere to go but the next flush's caller; the stream's own
      // abort handling ends the turn.
      timer ??= setTimeout(() => void flush().catch(() => {}), wait);
    },
    flush,
  };
}
