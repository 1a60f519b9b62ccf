// Public surface of drivekit/geometry: typed arrays and plain numbers, no tensors. Browser-safe.

// Angles.
export { angleDiff, DEG2RAD, normalizeAngle, RAD2DEG, unwrapAngles, wrapAngle, wrapAngle2Pi } from './angle.js';

// Polylines and a spatial grid index.
export { cumulativeLengths, distanceToPolyline, interpolatePolyline, Polyline, polylineHeadingAt, polylineLength, projectOnPolyline, resamplePolyline, segmentAt } from './polyline.js';
export type { Points, Projection } from './polyline.js';
export { GridIndex, segmentBounds } from './spatial.js';
export type { GridIndexOptions } from './spatial.js';

// Rays (lidar) against segments, circles, rings and oriented boxes.
export { BOX_STRIDE, castRays, orientedBoxBounds, rayAabb, rayCircle, rayOrientedBox, rayRing, raySegment } from './ray.js';
export type { CastRaysOptions } from './ray.js';

// Polygons (GEOS-exact predicates) and oriented boxes.
export { locatePointInRing, locatePointInRingN, Location, orient2d, pointSegmentDistance, PreparedPolygon, ringBounds, ringCentroid, ringSignedArea, ringsIntersect, segmentIntersectsRing, segmentsIntersect, stripClosingVertex } from './polygon.js';
export { boundsOverlap, boxBounds, boxCorners, boxesIntersect, segmentIntersectsBox } from './box.js';
