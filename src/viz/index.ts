// Public surface of drivekit/viz: SVG bird's-eye views of maps, environment states and NAVSIM
// scenes, and training-curve plots, as SVG text. Browser-safe: PNG export (`writePng`,
// `svgToPng`, `writeSvg`) and notebook display (`display`, `inNotebook`) are in `drivekit/node`.

// SVG canvas and overlays.
export { SvgCanvas } from './svg.js';
export type { SvgAttrs, SvgCanvasOptions } from './svg.js';
export { drawLegend, drawScaleBar, drawTitle, scaleBarLength } from './svg-overlays.js';
export type { ColorBar, LegendEntry, OverlayBox } from './svg-overlays.js';

// Maps, environment states and NAVSIM scenes.
export { drawRays, drawTrajectories, drawVehicles, MAP_COLORS, mapBounds, mapToSvg, renderMap } from './map-svg.js';
export type { MapSvgOptions, RayFan, Trajectory, VehicleBox } from './map-svg.js';
export { ENV_VIEW_HALF_SIZE, envToSvg, lidarRayFan, PARKED_COLOR, sceneVehicles } from './env-svg.js';
export type { EnvSvgOptions } from './env-svg.js';
export { NAVSIM_COLORS, renderNavsimScene, scoreColor } from './navsim-svg.js';
export type { NavsimSvgOptions } from './navsim-svg.js';

// Charts: vega-lite specs, rendered to SVG without a DOM (files and notebook display: drivekit/node).
export { barChartSpec, CHART_PALETTE, histogramSpec, lineChartSpec, smoothEma, trainingCurvesSpec } from './plot.js';
export type { BarChartOptions, BarDatum, ChartOptions, ChartSpec, CurvePanel, Distribution, HistogramOptions, LineChartOptions, Series, TrainingCurvesOptions } from './plot.js';
export { renderSpec } from './vega.js';

// Animations (animated SVG).
export { animatedSvg, animateEpisode, animateGRPOGroup } from './animate.js';
export type { EpisodeAnimation, EpisodeAnimationOptions, GRPOGroupAnimationOptions } from './animate.js';

/** @deprecated Names before the acronym casing (IL, PDM, DDIM, PPO, GRPO); they remain as aliases. */
export { animateGrpoGroup } from './animate.js';
export type { GrpoGroupAnimationOptions } from './animate.js';
