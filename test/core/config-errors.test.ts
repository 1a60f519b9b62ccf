/** The existing error classes are members of the one `DrivekitError` family and carry its fields. */
import { describe, expect, it } from 'vitest';
import { UsageError as CliUsageError, parseArgs } from '../../src/cli/args.js';
import { ConfigError, DrivekitError, InputError, UsageError } from '../../src/core/errors.js';
import { SafetensorsError, parseSafetensors } from '../../src/core/safetensors.js';
import { TensorLeakError } from '../../src/core/testing.js';
import { EnvConfigError } from '../../src/env/config.js';
import { scoreSceneJson } from '../../src/navsim/score-scene.js';
import { NavsimInputError } from '../../src/navsim/types.js';

describe('error family', () => {
  it('EnvConfigError is a ConfigError', () => {
    const e = new EnvConfigError('bad', { field: 'map_config.lane_width', expected: 'a number', found: 'x' });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e).toBeInstanceOf(DrivekitError);
    expect(e.name).toBe('EnvConfigError');
    expect([e.field, e.expected, e.found]).toEqual(['map_config.lane_width', 'a number', 'x']);
    expect(new EnvConfigError('message only').message).toBe('message only');
  });

  it('NavsimInputError is an InputError; its scene is also its file', () => {
    const e = new NavsimInputError('bad pose', 'scene_1', 'trajectory.poses[2]', { expected: 'a finite number', found: null });
    expect(e).toBeInstanceOf(InputError);
    expect(e.name).toBe('NavsimInputError');
    expect([e.scene, e.file, e.field, e.expected, e.found]).toEqual(['scene_1', 'scene_1', 'trajectory.poses[2]', 'a finite number', null]);
  });

  it('SafetensorsError is an InputError; its tensor is its field', () => {
    const e = new SafetensorsError('m.safetensors', 'w.0', 8, 'truncated');
    expect(e).toBeInstanceOf(InputError);
    expect([e.file, e.field, e.tensor, e.byteOffset]).toEqual(['m.safetensors', 'w.0', 'w.0', 8]);
    expect(e.message).toBe('m.safetensors: tensor "w.0" at byte 8: truncated');
    expect(new SafetensorsError('f', null, 0, 'x').field).toBeUndefined();
  });

  it('a corrupt safetensors buffer throws an InputError', () => {
    let caught: unknown;
    try {
      parseSafetensors(new Uint8Array([1, 2, 3]), 'tiny.safetensors');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SafetensorsError);
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as SafetensorsError).file).toBe('tiny.safetensors');
  });

  it('TensorLeakError is a DrivekitError with numTensors before/after', () => {
    const e = new TensorLeakError('step', 3, 5);
    expect(e).toBeInstanceOf(DrivekitError);
    expect([e.field, e.expected, e.found, e.label, e.before, e.after]).toEqual(['numTensors', 3, 5, 'step', 3, 5]);
  });

  it("the CLI's UsageError is core's", () => {
    expect(CliUsageError).toBe(UsageError);
    expect(() => parseArgs(['--nope'], { yes: 'boolean' }, 'x')).toThrow(UsageError);
  });

  it('scoreSceneJson reports input errors (InputError) as error results, not internal errors', () => {
    const r = scoreSceneJson({ schema: 'pdm_ref_scene/v9', name: 's' });
    expect(r.error).toBeTypeOf('string');
    expect(r.error).not.toMatch(/^internal error/);
  });
});
