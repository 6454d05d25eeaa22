/**
 * What a resumed import needs: which rows of which manifest are already published at which site. Rows
 * complete out of order (several in flight) and rejected rows stay undone (a rerun tries them again,
 * once the archive is fixed), so the rows done are kept as sorted, disjoint ranges: a handful even for
 * a large archive.
 */
export interface ImportState {
  version: 1;
  site: string;
  manifestSha256: string;
  idNamespace: string;
  /** Inclusive ranges of data row numbers (1 = the first row after a CSV header). */
  done: Array<[number, number]>;
}

export class RowsDone {
  private readonly ranges: Array<[number, number]>;

  constructor(ranges: Array<[number, number]> = []) {
    this.ranges = ranges.map(([from, to]) => [from, to]);
  }

  has(row: number): boolean {
    const i = this.indexAfter(row) - 1;
    return i >= 0 && row <= this.ranges[i]![1];
  }

  add(row: number): void {
    if (this.has(row)) return;
    const i = this.indexAfter(row);
    const before = this.ranges[i - 1];
    const after = this.ranges[i];
    if (before !== undefined && before[1] === row - 1) {
      before[1] = row;
      if (after !== undefined && after[0] === row + 1) {
        before[1] = after[1];
        this.ranges.splice(i, 1);
      }
    } else if (after !== undefined && after[0] === row + 1) {
      after[0] = row;
    } else {
      this.ranges.splice(i, 0, [row, row]);
    }
  }

  get count(): number {
    return this.ranges.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  }

  toJSON(): Array<[number, number]> {
    return this.ranges.map(([from, to]) => [from, to]);
  }

  /** The index of the first range that starts after `row`. */
  private indexAfter(row: number): number {
    let low = 0;
    let high = this.ranges.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.ranges[middle]![0] <= row) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * Why a saved state cannot be resumed by this import, or undefined when it can: row numbers mean
 * nothing in another manifest, and rows published at one site or under other ids are not done here.
 */
export function resumeRefusal(
  saved: unknown,
  current: Omit<ImportState, "version" | "done">,
): string | undefined {
  if (!isState(saved)) return "is not an import state file";
  if (saved.manifestSha256 !== current.manifestSha256) {
    return "belongs to another version of the manifest (its sha256 differs)";
  }
  if (saved.site !== current.site) return `belongs to an import at site ${saved.site}`;
  if (saved.idNamespace !== current.idNamespace) {
    return `was written with --id-namespace ${saved.idNamespace}`;
  }
  return undefined;
}

function isState(value: unknown): value is ImportState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<ImportState>;
  return (
    state.version === 1 &&
    typeof state.site === "string" &&
    typeof state.manifestSha256 === "string" &&
    typeof state.idNamespace === "string" &&
    Array.isArray(state.done) &&
    state.done.every(
      (r) =>
        Array.isArray(r) &&
        r.length === 2 &&
        Number.isInteger(r[0]) &&
        Number.isInteger(r[1]) &&
        r[0] <= r[1],
    )
  );
}
