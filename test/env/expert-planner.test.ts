import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng.js';
import { DrivingEnv } from '../../src/env/env.js';
import { IDMPolicy } from '../../src/env/idm.js';
import { ExpertEgoPolicy } from '../../src/env/policies.js';
import { buildRoadMap, roadKey, type RoadMap } from '../../src/env/road-map.js';
import { TrafficVehicle } from '../../src/env/traffic.js';
import { Vehicle } from '../../src/env/vehicle.js';
import { makeStraightLane, type LineType } from '../../src/world/lane.js';

/**
 * One-lane roads: the ego's route runs east along y = -1.75 through a junction road (x 50..70);
 * a second route runs north along x = 60 and crosses it inside the junction.
 */
function crossingMap(): RoadMap {
  const W = 3.5;
  const road = (from: string, to: string, a: [number, number], b: [number, number], kind = 'road') => {
    const lines: [LineType, LineType] = kind === 'junction' ? ['none', 'none'] : ['continuous', 'side'];
    return { from, to, kind, lanes: [makeStraightLane({ from, to, index: 0 }, a, b, { width: W, lineTypes: lines })] };
  };
  return buildRoadMap({
    roads: [
      road('>', '>>', [0, -1.75], [10, -1.75]),
      road('>>', '>>>', [10, -1.75], [50, -1.75]),
      road('>>>', 'J', [50, -1.75], [70, -1.75], 'junction'),
      road('J', 'E', [70, -1.75], [150, -1.75]),
      road('N0', 'N1', [60, -90], [60, -20]),
      road('N1', 'N2', [60, -20], [60, 20], 'junction'),
      road('N2', 'N3', [60, 20], [60, 90]),
    ],
    route: ['>', '>>', '>>>', 'J', 'E'],
    blocks: [],
    laneWidth: W,
    laneNum: 1,
    name: 'crossing',
  });
}

/** Runs the expert with a car driving north at 30 km/h timed to meet it in the junction. */
function runCrossing(usePlanner: boolean, carStartY: number): { crash: boolean; arrived: boolean; egoXWhenCarCrossed: number; steps: number } {
  const map = crossingMap();
  const env = new DrivingEnv({ traffic_density: 0 }, { mapSource: () => map });
  env.reset({ seed: 0 });
  const key = carStartY > 20 ? roadKey('N2', 'N3') : carStartY > -20 ? roadKey('N1', 'N2') : roadKey('N0', 'N1');
  const lane = map.roads.get(key)!.lanes[0]!;
  const car = new Vehicle('m', new Rng(3), 80, 7);
  car.place(60, carStartY, Math.PI / 2, 30 / 3.6);
  const order = ['N0->N1', 'N1->N2', 'N2->N3'];
  const tv = new TrafficVehicle(car, lane, new IDMPolicy(map, new Rng(4), (r) => map.roads.get(order[order.indexOf(r.key) + 1] ?? '') ?? null));
  tv.active = true;
  env.traffic.alive.push(tv);
  const expert = new ExpertEgoPolicy();
  expert.reset(env);
  if (!usePlanner) expert.expert.planner.choose = (_e, _p, _s, _l, aFollow) => aFollow;
  let egoXWhenCarCrossed = NaN;
  for (let t = 0; t < 400; t++) {
    const yBefore = car.y;
    const r = env.step(expert.act(env));
    if (yBefore < -1.75 && car.y >= -1.75) egoXWhenCarCrossed = env.ego.x;
    if (r.terminated || r.truncated) return { crash: r.info.crash_vehicle, arrived: r.info.arrive_dest, egoXWhenCarCrossed, steps: t + 1 };
  }
  return { crash: false, arrived: false, egoXWhenCarCrossed, steps: 400 };
}

describe('expert interaction planner', () => {
  it('yields to crossing traffic that IDM will not yield for (and the scenario is a real conflict)', () => {
    // Timed so that car and ego reach the crossing together if the ego just drives.
    const blind = runCrossing(false, -57);
    expect(blind.crash).toBe(true);
    const expert = runCrossing(true, -57);
    expect(expert.crash).toBe(false);
    expect(expert.arrived).toBe(true);
    // It waited: when the car crossed the ego's lane the ego was still before the junction.
    expect(expert.egoXWhenCarCrossed).toBeLessThan(50);
  });

  it('does not wait for a car that has already crossed', () => {
    const reference = runCrossing(true, 80); // far away on the exit road
    expect(reference.arrived).toBe(true);
    const gone = runCrossing(true, 5); // just past the ego's lane, driving away
    expect(gone.arrived).toBe(true);
    expect(gone.steps).toBe(reference.steps);
  });
});
