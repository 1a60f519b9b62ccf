/**
 * A small WKB reader for the geometries shapely pickles (`shapely.io.from_wkb(bytes)`): Point,
 * LineString, Polygon and their Multi* forms, either byte order, 2D / Z / M / ZM (ISO codes
 * 1000 / 2000 / 3000 and the EWKB flags; Z and M values are dropped), an EWKB SRID skipped.
 * Coordinates come out as flat [x, y] * n Float64Arrays, rings as written (closed).
 */

export type WkbGeometry =
  | { type: 'Point'; xy: Float64Array }
  | { type: 'LineString'; xy: Float64Array }
  | { type: 'Polygon'; rings: Float64Array[] }
  | { type: 'MultiPoint' | 'MultiLineString' | 'MultiPolygon' | 'GeometryCollection'; parts: WkbGeometry[] };

const NAMES = ['', 'Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection'] as const;

/** Deepest nesting of collections accepted. */
const MAX_DEPTH = 8;

class WkbReader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new Error(`WKB: truncated at byte ${this.pos} (needs ${n} more of ${this.bytes.length})`);
  }

  u32(le: boolean): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, le);
    this.pos += 4;
    return v;
  }

  f64(le: boolean): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, le);
    this.pos += 8;
    return v;
  }

  points(le: boolean, dims: number): Float64Array {
    const n = this.u32(le);
    this.need(n * dims * 8);
    const out = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) {
      out[2 * i] = this.f64(le);
      out[2 * i + 1] = this.f64(le);
      this.pos += (dims - 2) * 8;
    }
    return out;
  }

  geometry(depth: number): WkbGeometry {
    if (depth > MAX_DEPTH) throw new Error(`WKB: collections nested deeper than ${MAX_DEPTH}`);
    this.need(1);
    const order = this.bytes[this.pos++]!;
    if (order !== 0 && order !== 1) throw new Error(`WKB: byte order ${order} at byte ${this.pos - 1}`);
    const le = order === 1;
    let code = this.u32(le);
    let dims = 2;
    if (code & 0x80000000) dims++;
    if (code & 0x40000000) dims++;
    if (code & 0x20000000) this.u32(le); // SRID
    code &= 0x0fffffff;
    if (code >= 1000) {
      const iso = Math.floor(code / 1000);
      dims = iso === 3 ? 4 : 3;
      code %= 1000;
    }
    const type = NAMES[code];
    if (!type) throw new Error(`WKB: geometry type ${code}`);
    switch (type) {
      case 'Point': {
        this.need(dims * 8);
        const xy = Float64Array.of(this.f64(le), this.f64(le));
        this.pos += (dims - 2) * 8;
        return { type, xy };
      }
      case 'LineString':
        return { type, xy: this.points(le, dims) };
      case 'Polygon': {
        const n = this.u32(le);
        this.need(n * 4);
        const rings: Float64Array[] = [];
        for (let i = 0; i < n; i++) rings.push(this.points(le, dims));
        return { type, rings };
      }
      default: {
        const n = this.u32(le);
        this.need(n * 5);
        const parts: WkbGeometry[] = [];
        for (let i = 0; i < n; i++) parts.push(this.geometry(depth + 1));
        return { type, parts };
      }
    }
  }
}

/** Parses one WKB geometry; trailing bytes or a truncated stream are an `Error` (the caller names the file). */
export function parseWkb(bytes: Uint8Array): WkbGeometry {
  const r = new WkbReader(bytes);
  const g = r.geometry(0);
  if (r.pos !== bytes.length) throw new Error(`WKB: ${bytes.length - r.pos} trailing bytes`);
  return g;
}
