import { duplicateName, unknownName } from './errors.js';

/**
 * An explicit name -> entry map (after lm-evaluation-harness): a duplicate name is refused,
 * an unknown one is answered with the list of known names. Nothing registers itself on import;
 * each registry is filled in one place.
 */
export class Registry<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly kind: string) {}

  add(name: string, entry: T): this {
    if (this.entries.has(name)) throw duplicateName(this.kind, name);
    this.entries.set(name, entry);
    return this;
  }

  /**
   * Takes an entry out again. Only for code that adds an entry for its own duration (the worked
   * examples in test/extending/): the registries of the harness are filled once, where they live.
   */
  remove(name: string): void {
    if (!this.entries.delete(name)) throw unknownName(this.kind, name, this.names());
  }

  get(name: string): T {
    const entry = this.entries.get(name);
    if (entry === undefined) throw unknownName(this.kind, name, this.names());
    return entry;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  values(): T[] {
    return [...this.entries.values()];
  }
}
