import { describe, expect, it } from 'vitest';
import { EPDMS_V2_KEYS, PDMS_V1_KEYS, formatPdmTable, pdmTable, pdmTableToJSON } from '../../src/metrics/pdm-table.js';

const v1 = (nc: number, ep: number, score: number) => ({
  no_at_fault_collisions: nc,
  drivable_area_compliance: 1,
  driving_direction_compliance: 1,
  ego_progress: ep,
  time_to_collision_within_bound: 1,
  comfort: 1,
  score,
});

describe('pdmTable', () => {
  it('means the scores over valid scenes and every column separately (skipna)', () => {
    const t = pdmTable(
      [
        { name: 'a', metrics: v1(1, 0.8, 0.9) },
        { name: 'b', metrics: v1(0, 0.0, 0.0) },
        { name: 'c', error: 'bad file' },
        { name: 'd', metrics: { ...v1(1, 0.5, NaN) } },
        { name: 'e', metrics: { ...v1(0.5, 1, 0.45), comfort: null } },
      ],
      'v1.1',
    );
    expect(t.numScenes).toBe(5);
    expect(t.numValid).toBe(3);
    expect(t.numInvalid).toBe(2);
    expect(t.invalid.map((i) => i.name)).toEqual(['c', 'd']);
    expect(t.score).toBeCloseTo((0.9 + 0 + 0.45) / 3, 15);
    const col = (k: string) => t.columns.find((c) => c.key === k)!;
    expect(col('no_at_fault_collisions').mean).toBeCloseTo(0.5, 15);
    expect(col('ego_progress').mean).toBeCloseTo(0.6, 15);
    expect(col('comfort').count).toBe(2);
    expect(col('comfort').mean).toBe(1);
    expect(t.columns.map((c) => c.key)).toEqual([...PDMS_V1_KEYS]);
  });

  it('v2.2 keeps EC NaN out of its column and labels EPDMS', () => {
    const m = Object.fromEntries(EPDMS_V2_KEYS.map((k) => [k, 1])) as Record<string, number | null>;
    const t = pdmTable(
      [
        { name: 'x', metrics: { ...m, two_frame_extended_comfort: null, score: 0.5 } },
        { name: 'y', metrics: { ...m, two_frame_extended_comfort: 0, score: 1 } },
      ],
      'v2.2',
    );
    expect(t.scoreName).toBe('EPDMS');
    expect(t.score).toBe(0.75);
    const ec = t.columns.find((c) => c.key === 'two_frame_extended_comfort')!;
    expect(ec.count).toBe(1);
    expect(ec.mean).toBe(0);
    const json = pdmTableToJSON(t) as any;
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.columns.two_frame_extended_comfort).toEqual({ label: 'EC', mean: 0, count: 1 });
    expect(json.score).toBe(0.75);
  });

  it('an empty or all-invalid table has NaN means that print as n/a and serialise as null', () => {
    const t = pdmTable([{ name: 'bad', error: 'boom' }]);
    expect(Number.isNaN(t.score)).toBe(true);
    expect((pdmTableToJSON(t) as any).score).toBeNull();
    const s = formatPdmTable(t);
    expect(s).toContain('n/a');
    expect(s).toContain('invalid: bad: boom');
  });

  it('prints percentages with abbreviations', () => {
    const s = formatPdmTable(pdmTable([{ name: 'a', metrics: v1(1, 0.8896, 0.954) }]));
    const [head, , row] = s.split('\n');
    expect(head).toMatch(/NC .*DAC .*DDC .*EP .*TTC .*C .*PDMS/);
    expect(row).toContain('88.96');
    expect(row).toContain('95.40');
  });

  it('rejects an unknown version with the valid ones', () => {
    expect(() => pdmTable([], 'v3' as any)).toThrow(/Should be 'v1.1' or 'v2.2'/);
  });
});
