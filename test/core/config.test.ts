import { describe, expect, it } from 'vitest';
import { cliFlags, defineConfig, describeSpec, kebabCase, parseFlagValue, UnknownKeyError, type ConfigDef } from '../../src/core/config.js';
import { ConfigError, DrivekitError } from '../../src/core/errors.js';

interface Optim {
  lr: number;
  betas: number[];
}
interface Demo {
  epochs: number;
  lr: number;
  mode: 'epoch' | 'step';
  name: string;
  shuffle: boolean;
  clip: number | null;
  optimizer: Optim;
  tags: string[];
  extra: unknown;
}

const OPTIM = defineConfig<Optim>('OptimConfig', {
  lr: { default: 1e-4, type: 'number', gt: 0, max: 1, doc: 'Peak learning rate.' },
  betas: { default: [0.9, 0.999], type: 'array', items: { type: 'number', min: 0, lt: 1 }, check: (v) => (v.length === 2 ? undefined : 'two betas'), doc: 'Adam betas.' },
});

const DEMO: ConfigDef<Demo> = defineConfig<Demo>('DemoConfig', {
  epochs: { default: 200, type: 'integer', min: 1, doc: 'Number of epochs.' },
  lr: { default: 0.5, type: 'number', min: 0, max: 1, doc: 'A rate | with a pipe.' },
  mode: { default: 'epoch', type: 'enum', values: ['epoch', 'step'], doc: 'Schedule interval.' },
  name: { default: 'run', type: 'string', doc: 'Run name.', cli: 'run-name' },
  shuffle: { default: true, type: 'boolean', doc: 'Shuffle rows.' },
  clip: { default: null, type: 'number', gt: 0, nullable: true, doc: 'Clip, null = none.' },
  optimizer: { default: OPTIM.defaults, type: 'object', nested: OPTIM, doc: 'AdamW settings.' },
  tags: { default: [], type: 'array', items: { type: 'string' }, doc: 'Tags.', cli: false },
  extra: { default: { a: [1, 2] }, type: 'any', doc: 'Anything JSON.' },
});

function catchErr(fn: () => unknown): DrivekitError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DrivekitError) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

describe('defineConfig / resolve', () => {
  it('fills defaults and returns a deep-frozen config', () => {
    const c = DEMO.resolve();
    expect(c).toEqual({ epochs: 200, lr: 0.5, mode: 'epoch', name: 'run', shuffle: true, clip: null, optimizer: { lr: 1e-4, betas: [0.9, 0.999] }, tags: [], extra: { a: [1, 2] } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.optimizer)).toBe(true);
    expect(Object.isFrozen(c.optimizer.betas)).toBe(true);
    expect(Object.isFrozen((c.extra as { a: number[] }).a)).toBe(true);
    expect(Object.isFrozen(DEMO.defaults)).toBe(true);
    expect(Object.isFrozen(DEMO.defaults.optimizer)).toBe(true);
    expect(() => {
      (c as { epochs: number }).epochs = 3;
    }).toThrow(TypeError);
  });

  it('copies the input: later edits of the input do not reach the config', () => {
    const betas = [0.8, 0.9];
    const c = DEMO.resolve({ optimizer: { betas } });
    betas[0] = 0.1;
    expect(c.optimizer.betas).toEqual([0.8, 0.9]);
    expect(c.optimizer.lr).toBe(1e-4);
  });

  it('treats undefined as not given', () => {
    expect(DEMO.resolve({ epochs: undefined }).epochs).toBe(200);
  });

  it('rejects an unknown key with the nearest valid key', () => {
    const e = catchErr(() => DEMO.resolve({ epoch: 5 }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toBeInstanceOf(UnknownKeyError);
    expect(e.field).toBe('epoch');
    expect(e.found).toBe(5);
    expect((e as UnknownKeyError).suggestion).toBe('epochs');
    expect((e as UnknownKeyError).validKeys).toContain('optimizer');
    expect(e.message).toContain("Did you mean 'epochs'?");
  });

  it('rejects an unknown nested key with its dotted path', () => {
    const e = catchErr(() => DEMO.resolve({ optimizer: { lrr: 1e-3 } })) as UnknownKeyError;
    expect(e).toBeInstanceOf(UnknownKeyError);
    expect(e.field).toBe('optimizer.lrr');
    expect(e.suggestion).toBe('lr');
  });

  it('gives no suggestion when nothing is close', () => {
    const e = catchErr(() => DEMO.resolve({ zzzzzzzz: 1 })) as UnknownKeyError;
    expect(e.field).toBe('zzzzzzzz');
    expect(e.suggestion).toBeUndefined();
  });

  it('reports the file it was given', () => {
    const e = catchErr(() => DEMO.resolve({ epochs: 0 }, { file: 'trainer.json' }));
    expect(e.file).toBe('trainer.json');
    expect(e.message.startsWith('trainer.json:')).toBe(true);
  });

  it.each([
    ['epochs', 2.5, 'an integer >= 1'],
    ['epochs', 0, 'an integer >= 1'],
    ['epochs', '5', 'an integer >= 1'],
    ['lr', NaN, 'a number in [0, 1]'],
    ['lr', Infinity, 'a number in [0, 1]'],
    ['lr', 1.5, 'a number in [0, 1]'],
    ['lr', -0.1, 'a number in [0, 1]'],
    ['mode', 'steps', 'one of "epoch", "step"'],
    ['name', 3, 'a string'],
    ['shuffle', 'yes', 'a boolean'],
    ['clip', 0, 'a number > 0 or null'],
    ['optimizer', 3, 'an object (OptimConfig)'],
    ['optimizer', [1], 'an object (OptimConfig)'],
    ['tags', 'a', 'an array, each item a string'],
  ] as const)('rejects %s = %s (expected %s)', (field, found, expected) => {
    const e = catchErr(() => DEMO.resolve({ [field]: found }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.field).toBe(field);
    expect(e.expected).toBe(expected);
    expect(Object.is(e.found, found)).toBe(true);
  });

  it('checks nested ranges, array items and field checks with dotted paths', () => {
    let e = catchErr(() => DEMO.resolve({ optimizer: { lr: 0 } }));
    expect([e.field, e.expected, e.found]).toEqual(['optimizer.lr', 'a number in (0, 1]', 0]);
    e = catchErr(() => DEMO.resolve({ optimizer: { betas: [0.9, 1] } }));
    expect([e.field, e.expected, e.found]).toEqual(['optimizer.betas[1]', 'a number in [0, 1)', 1]);
    e = catchErr(() => DEMO.resolve({ optimizer: { betas: [0.9] } }));
    expect([e.field, e.expected]).toEqual(['optimizer.betas', 'two betas']);
    e = catchErr(() => DEMO.resolve({ tags: ['a', 2] }));
    expect([e.field, e.found]).toEqual(['tags[1]', 2]);
  });

  it('accepts edge values of inclusive ranges and null for nullable fields', () => {
    const c = DEMO.resolve({ lr: 1, clip: null, optimizer: { lr: 1 } });
    expect(c.lr).toBe(1);
    expect(c.clip).toBeNull();
    expect(DEMO.resolve({ clip: 2 }).clip).toBe(2);
    expect(() => DEMO.resolve({ epochs: null })).toThrow(ConfigError);
  });

  it('rejects input that is not a plain object', () => {
    for (const bad of [null, 3, 'x', [1], new Map()]) {
      const e = catchErr(() => DEMO.resolve(bad));
      expect(e).toBeInstanceOf(ConfigError);
      expect(e.expected).toBe('an object (DemoConfig)');
    }
  });

  it('rejects __proto__ from JSON as an unknown key', () => {
    const e = catchErr(() => DEMO.resolve(JSON.parse('{"__proto__": {"epochs": 1}}')));
    expect(e).toBeInstanceOf(UnknownKeyError);
    expect(e.field).toBe('__proto__');
  });

  it('resolves over a base (a preset), nested sections merged over the base section', () => {
    const base = DEMO.resolve({ epochs: 7, optimizer: { lr: 0.2 } });
    const c = DEMO.resolve({ optimizer: { betas: [0.5, 0.6] } }, { base });
    expect(c.epochs).toBe(7);
    expect(c.optimizer).toEqual({ lr: 0.2, betas: [0.5, 0.6] });
  });

  it('runs the config-level check', () => {
    const D = defineConfig<{ lo: number; hi: number }>(
      'RangeConfig',
      {
        lo: { default: 0, type: 'number', doc: 'Low.' },
        hi: { default: 1, type: 'number', doc: 'High.' },
      },
      { check: (c) => (c.hi > c.lo ? undefined : { field: 'hi', expected: `a number > lo (${c.lo})`, found: c.hi }) },
    );
    const e = catchErr(() => D.resolve({ lo: 2 }));
    expect([e.field, e.expected, e.found]).toEqual(['hi', 'a number > lo (2)', 1]);
  });

  it('fails at definition time when a default breaks its own spec', () => {
    expect(() => defineConfig<{ n: number }>('Bad', { n: { default: 0, type: 'integer', min: 1, doc: 'n' } })).toThrow(ConfigError);
  });
});

describe('toJSON round trip', () => {
  it('round-trips through JSON to a deep-equal config', () => {
    const c = DEMO.resolve({ epochs: 3, mode: 'step', clip: 0.5, optimizer: { lr: 0.01, betas: [0.1, 0.2] }, tags: ['x'], extra: { b: 'c' } });
    const json = DEMO.toJSON(c);
    expect(Object.isFrozen(json)).toBe(false);
    expect(Object.isFrozen(json.optimizer)).toBe(false);
    const back = DEMO.resolve(JSON.parse(JSON.stringify(json)));
    expect(back).toEqual(c);
    expect(DEMO.toJSON(back)).toEqual(json);
    expect(Object.keys(json)).toEqual(Object.keys(DEMO.fields));
  });

  it('round-trips the defaults (null included)', () => {
    expect(DEMO.resolve(JSON.parse(JSON.stringify(DEMO.toJSON(DEMO.defaults))))).toEqual(DEMO.defaults);
  });
});

describe('docTable', () => {
  it('lists every field with type, default and doc; nested keys dotted; pipes escaped', () => {
    const t = DEMO.docTable();
    const lines = t.split('\n');
    expect(lines[0]).toBe('| key | type | default | doc |');
    expect(lines[1]).toBe('|---|---|---|---|');
    expect(lines).toContain('| `epochs` | an integer >= 1 | `200` | Number of epochs. |');
    expect(lines).toContain('| `lr` | a number in [0, 1] | `0.5` | A rate \\| with a pipe. |');
    expect(lines).toContain('| `mode` | one of "epoch", "step" | `"epoch"` | Schedule interval. |');
    expect(lines).toContain('| `optimizer` | object (OptimConfig) | | AdamW settings. |');
    expect(lines).toContain('| `optimizer.lr` | a number in (0, 1] | `0.0001` | Peak learning rate. |');
    expect(lines).toContain('| `clip` | a number > 0 or null | `null` | Clip, null = none. |');
    // header + separator + 9 fields + 2 nested
    expect(lines).toHaveLength(2 + 9 + 2);
  });

  it("shows a nested section's defaults from its parent field, not the nested def's", () => {
    const D = defineConfig<{ opt: Optim }>('WithOpt', { opt: { default: { lr: 0.5, betas: [0.1, 0.2] }, type: 'object', nested: OPTIM, doc: 'o' } });
    expect(D.docTable().split('\n')).toContain('| `opt.lr` | a number in (0, 1] | `0.5` | Peak learning rate. |');
  });
});

describe('CLI helpers', () => {
  it('derives flags from the fields (kebab-case, custom names, nested prefixes, cli: false left out)', () => {
    const flags = cliFlags(DEMO).map((f) => `${f.flag}=${f.key}`);
    expect(flags).toEqual(['epochs=epochs', 'lr=lr', 'mode=mode', 'run-name=name', 'shuffle=shuffle', 'clip=clip', 'optimizer-lr=optimizer.lr', 'optimizer-betas=optimizer.betas', 'extra=extra']);
    expect(kebabCase('checkpointEverySteps')).toBe('checkpoint-every-steps');
    expect(kebabCase('max_speed_km_h')).toBe('max-speed-km-h');
  });

  it('parses flag text by type; resolve then checks it', () => {
    expect(parseFlagValue({ type: 'integer' }, '12')).toBe(12);
    expect(parseFlagValue({ type: 'boolean' }, 'false')).toBe(false);
    expect(parseFlagValue({ type: 'number', nullable: true }, 'null')).toBeNull();
    expect(parseFlagValue({ type: 'array' }, '[1,2]')).toEqual([1, 2]);
    expect(parseFlagValue({ type: 'enum', values: [1, 2] }, '2')).toBe(2);
    const e = catchErr(() => DEMO.resolve({ epochs: parseFlagValue(DEMO.fields.epochs, 'ten') }));
    expect(e.field).toBe('epochs');
  });

  it('describes specs in words', () => {
    expect(describeSpec({ type: 'number', gt: 0, max: 20 })).toBe('a number in (0, 20]');
    expect(describeSpec({ type: 'integer', max: 5 })).toBe('an integer <= 5');
  });
});
