/** The engine's event listeners: a listener's failure never breaks the engine. */
import type { EngineEvent } from '../types';

export class Listeners {
  private readonly set = new Set<(e: EngineEvent) => void>();

  on(listener: (e: EngineEvent) => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  emit(e: EngineEvent): void {
    for (const l of this.set) {
      try {
        l(e);
      } catch {
        /* a listener's failure must not break the engine */
      }
    }
  }
}
