/**
 * A small SVG builder with equal axes: world coordinates (metres, x right, y up) are mapped to
 * screen pixels (y down) by one scale factor, so circles stay round and angles true.
 */

export type SvgAttrs = Record<string, string | number | undefined>;

export interface SvgCanvasOptions {
  /** Image width in pixels (height follows from the bounds' aspect ratio). Default 800. */
  width?: number;
  /** Margin around the bounds in pixels. Default 20. */
  padding?: number;
  /** Background fill; none when undefined. */
  background?: string;
  /** Upper bound for the height in pixels (the scale shrinks to fit). Default 4 * width. */
  maxHeight?: number;
}

function esc(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function attrs(a: SvgAttrs): string {
  let s = '';
  for (const [k, v] of Object.entries(a)) {
    if (v === undefined) continue;
    s += ` ${k}="${typeof v === 'number' ? fmt(v) : esc(v)}"`;
  }
  return s;
}

export class SvgCanvas {
  readonly width: number;
  readonly height: number;
  /** Pixels per metre. */
  readonly scale: number;
  private readonly minX: number;
  private readonly maxY: number;
  private readonly padding: number;
  private readonly parts: string[] = [];
  private readonly defs: string[] = [];

  /** `bounds` = [minX, minY, maxX, maxY] in world metres. */
  constructor(bounds: readonly [number, number, number, number], opts: SvgCanvasOptions = {}) {
    const [minX, minY, maxX, maxY] = bounds;
    if (!(maxX > minX) || !(maxY > minY)) throw new Error(`SvgCanvas: empty bounds [${bounds.join(', ')}].`);
    const width = opts.width ?? 800;
    const padding = opts.padding ?? 20;
    const maxHeight = opts.maxHeight ?? 4 * width;
    let scale = (width - 2 * padding) / (maxX - minX);
    if ((maxY - minY) * scale + 2 * padding > maxHeight) scale = (maxHeight - 2 * padding) / (maxY - minY);
    this.scale = scale;
    this.width = width;
    this.height = Math.ceil((maxY - minY) * scale + 2 * padding);
    this.minX = minX - ((width - 2 * padding) / scale - (maxX - minX)) / 2;
    this.maxY = maxY;
    this.padding = padding;
    if (opts.background) this.parts.push(`<rect x="0" y="0" width="${this.width}" height="${this.height}" fill="${esc(opts.background)}"/>`);
  }

  /** Screen x of world x. */
  sx(x: number): number {
    return this.padding + (x - this.minX) * this.scale;
  }

  /** Screen y of world y (flipped). */
  sy(y: number): number {
    return this.padding + (this.maxY - y) * this.scale;
  }

  private pointList(points: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i + 1 < points.length; i += 2) s += `${i ? ' ' : ''}${this.sx(points[i]!).toFixed(2)},${this.sy(points[i + 1]!).toFixed(2)}`;
    return s;
  }

  /** Path data ("M ... Z") of a closed ring of world points. */
  ringPath(points: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i + 1 < points.length; i += 2) s += `${i ? 'L' : 'M'}${this.sx(points[i]!).toFixed(2)} ${this.sy(points[i + 1]!).toFixed(2)}`;
    return s + 'Z';
  }

  raw(svg: string): this {
    this.parts.push(svg);
    return this;
  }

  /** Adds a `<defs>` entry (markers, patterns). */
  def(svg: string): this {
    this.defs.push(svg);
    return this;
  }

  polygon(points: ArrayLike<number>, a: SvgAttrs = {}): this {
    return this.raw(`<polygon points="${this.pointList(points)}"${attrs(a)}/>`);
  }

  /** A polygon with holes (even-odd fill). */
  polygonWithHoles(outer: ArrayLike<number>, holes: readonly ArrayLike<number>[], a: SvgAttrs = {}): this {
    const d = [outer, ...holes].map((r) => this.ringPath(r)).join('');
    return this.raw(`<path d="${d}" fill-rule="evenodd"${attrs(a)}/>`);
  }

  polyline(points: ArrayLike<number>, a: SvgAttrs = {}): this {
    return this.raw(`<polyline points="${this.pointList(points)}" fill="none"${attrs(a)}/>`);
  }

  line(x1: number, y1: number, x2: number, y2: number, a: SvgAttrs = {}): this {
    return this.raw(`<line x1="${this.sx(x1).toFixed(2)}" y1="${this.sy(y1).toFixed(2)}" x2="${this.sx(x2).toFixed(2)}" y2="${this.sy(y2).toFixed(2)}"${attrs(a)}/>`);
  }

  /** A circle of world radius `r` metres (or `rPx` pixels when `a.rPx` is given). */
  circle(x: number, y: number, r: number, a: SvgAttrs = {}): this {
    return this.raw(`<circle cx="${this.sx(x).toFixed(2)}" cy="${this.sy(y).toFixed(2)}" r="${fmt(r * this.scale)}"${attrs(a)}/>`);
  }

  /** An oriented box centred at (x, y), heading in radians (counter-clockwise from +x). */
  orientedBox(x: number, y: number, heading: number, length: number, width: number, a: SvgAttrs = {}): this {
    const c = Math.cos(heading), s = Math.sin(heading);
    const hl = length / 2, hw = width / 2;
    const pts = [hl, hw, -hl, hw, -hl, -hw, hl, -hw];
    const world = new Float64Array(8);
    for (let i = 0; i < 4; i++) {
      const px = pts[2 * i]!, py = pts[2 * i + 1]!;
      world[2 * i] = x + c * px - s * py;
      world[2 * i + 1] = y + s * px + c * py;
    }
    return this.polygon(world, a);
  }

  /** Text at world (x, y); `size` in pixels. */
  text(x: number, y: number, content: string, a: SvgAttrs = {}): this {
    return this.raw(`<text x="${this.sx(x).toFixed(2)}" y="${this.sy(y).toFixed(2)}"${attrs({ 'font-family': 'sans-serif', 'font-size': 12, ...a })}>${esc(content)}</text>`);
  }

  /** Text at screen pixels (for titles and legends). */
  screenText(px: number, py: number, content: string, a: SvgAttrs = {}): this {
    return this.raw(`<text x="${fmt(px)}" y="${fmt(py)}"${attrs({ 'font-family': 'sans-serif', 'font-size': 14, ...a })}>${esc(content)}</text>`);
  }

  /** Wraps what `fn` draws in a `<g>` with these attributes. */
  group(a: SvgAttrs, fn: (c: this) => void): this {
    this.parts.push(`<g${attrs(a)}>`);
    fn(this);
    this.parts.push('</g>');
    return this;
  }

  toString(): string {
    const defs = this.defs.length ? `<defs>${this.defs.join('')}</defs>` : '';
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}">${defs}${this.parts.join('')}</svg>`;
  }
}
