/** Slot value of an empty slot. */
const EMPTY = -1;
/** Entries per slot at most before the table doubles: half full keeps probe runs short. */
const MAX_LOAD = 0.5;

/**
 * Positions by id, for the ids callers give their calls: a hash table with open addressing in
 * typed arrays, sized for a batch before it is filled. A `Map` of strings costs about 0.3 µs per
 * id inserted and looked up in a run of 10,000 calls (its table grows and rehashes, and every
 * entry is an allocation); this costs about a sixth of that, and a run with given ids pays it for
 * every call. The hash is seeded per process, so that ids chosen to collide can't be prepared.
 * Entries are never removed: a run's ids stay taken.
 */
export class IdIndex {
  /** Entry number per slot, or EMPTY. */
  #slots = new Int32Array(16).fill(EMPTY);
  #mask = 15;
  readonly #ids: string[] = [];
  readonly #positions: number[] = [];

  get size(): number {
    return this.#ids.length;
  }

  /** Makes room for `count` more ids without growing on the way. */
  reserve(count: number): void {
    const needed = this.#ids.length + count;
    if (needed > (this.#mask + 1) * MAX_LOAD) this.#resize(needed);
  }

  get(id: string): number | undefined {
    if (this.#ids.length === 0) return undefined;
    const entry = this.#slots[this.#probe(id)] as number;
    return entry === EMPTY ? undefined : this.#positions[entry];
  }

  has(id: string): boolean {
    return this.#ids.length > 0 && this.#slots[this.#probe(id)] !== EMPTY;
  }

  /** Adds `id` at `position` unless it is there already; false then, and nothing changes. One probe, where `has` then `set` take two. */
  addIfAbsent(id: string, position: number): boolean {
    const slot = this.#probe(id);
    if (this.#slots[slot] !== EMPTY) return false;
    this.#insert(slot, id, position);
    return true;
  }

  /** Sets the position of `id`, adding it or replacing the one it had. */
  set(id: string, position: number): void {
    const slot = this.#probe(id);
    const entry = this.#slots[slot] as number;
    if (entry === EMPTY) this.#insert(slot, id, position);
    else this.#positions[entry] = position;
  }

  /** The slot that holds `id`, or the empty slot where it would go. */
  #probe(id: string): number {
    let slot = hashOf(id) & this.#mask;
    for (let entry = this.#slots[slot] as number; entry !== EMPTY; entry = this.#slots[slot] as number) {
      if (this.#ids[entry] === id) return slot;
      slot = (slot + 1) & this.#mask;
    }
    return slot;
  }

  #insert(slot: number, id: string, position: number): void {
    const entry = this.#ids.length;
    this.#ids.push(id);
    this.#positions.push(position);
    this.#slots[slot] = entry;
    if (this.#ids.length > (this.#mask + 1) * MAX_LOAD) this.#resize(this.#ids.length);
  }

  /** A table for at least `entries` ids at half load, with every id put back. */
  #resize(entries: number): void {
    let capacity = this.#mask + 1;
    while (entries > capacity * MAX_LOAD) capacity *= 2;
    this.#slots = new Int32Array(capacity).fill(EMPTY);
    this.#mask = capacity - 1;
    for (let entry = 0; entry < this.#ids.length; entry++) {
      let slot = hashOf(this.#ids[entry] as string) & this.#mask;
      while (this.#slots[slot] !== EMPTY) slot = (slot + 1) & this.#mask;
      this.#slots[slot] = entry;
    }
  }
}

/** A random start for every process's hashes (see `IdIndex`). */
const SEED = (Math.random() * 0x1_0000_0000) >>> 0;

/** FNV-1a over the id's UTF-16 code units, from a seeded start. */
function hashOf(id: string): number {
  let hash = 2166136261 ^ SEED;
  for (let index = 0; index < id.length; index++) hash = Math.imul(hash ^ id.charCodeAt(index), 16777619);
  // Mixed once more: FNV's low bits, the ones a power-of-two table uses, follow the last characters closely.
  hash ^= hash >>> 15;
  return Math.imul(hash, 0x2c1b3c6d) >>> 0;
}
