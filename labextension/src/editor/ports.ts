/**
 * Port types: the hierarchy the kernel enforces, mirrored here so the editor can refuse an
 * incompatible connection before it is sent (the kernel still has the last word: its `ack`).
 *
 * Solid, Surface, Curve and Point are Shapes; Shape, Number, Vector, String and Data are Any.
 * A generic Shape output may carry a Solid, so it is allowed into a Solid input and checked
 * when the graph runs (same rule as `brepflow_lab.nodes.spec.port_accepts`).
 */

export const PORT_PARENTS: Record<string, string> = {
  Solid: 'Shape',
  Surface: 'Shape',
  Curve: 'Shape',
  Point: 'Shape',
  Shape: 'Any',
  Number: 'Any',
  Vector: 'Any',
  String: 'Any',
  Data: 'Any'
};

export const SHAPE_TYPES = new Set(['Shape', 'Solid', 'Surface', 'Curve', 'Point']);

export function portAccepts(target: string, source: string): boolean {
  if (target === 'Any' || source === target || source === 'Any') {
    return true;
  }
  let t = source;
  while (t in PORT_PARENTS) {
    t = PORT_PARENTS[t];
    if (t === target) {
      return true;
    }
  }
  return source === 'Shape' && SHAPE_TYPES.has(target);
}

/** A sentence telling the user why a connection is refused, or null when it is fine. */
export function incompatibility(
  targetType: string,
  sourceType: string,
  where: { source: string; sourceHandle: string; target: string; targetHandle: string }
): string | null {
  if (portAccepts(targetType, sourceType)) {
    return null;
  }
  const hint = SHAPE_TYPES.has(targetType) && SHAPE_TYPES.has(sourceType)
    ? ` (a ${targetType} input takes a ${targetType}${targetType === 'Shape' ? '' : ' or a generic Shape'})`
    : '';
  return (
    `cannot connect ${where.source}.${where.sourceHandle} (${sourceType}) to ` +
    `${where.target}.${where.targetHandle} (${targetType}): a ${targetType} input does not take a ${sourceType}${hint}`
  );
}

/** Colours per port type; readable on light and dark themes. */
export const PORT_COLORS: Record<string, string> = {
  Solid: '#3b82f6',
  Surface: '#14b8a6',
  Curve: '#f59e0b',
  Point: '#ec4899',
  Shape: '#8b5cf6',
  Number: '#22c55e',
  Vector: '#06b6d4',
  String: '#a3a3a3',
  Data: '#78716c',
  Any: '#9ca3af'
};

export function portColor(type: string | undefined): string {
  return (type && PORT_COLORS[type]) || PORT_COLORS.Any;
}

export const CATEGORY_COLORS: Record<string, string> = {
  Solid: '#3b82f6',
  Sketch: '#f59e0b',
  Boolean: '#ef4444',
  Features: '#8b5cf6',
  Transform: '#06b6d4',
  IO: '#64748b',
  Analysis: '#22c55e',
  Utility: '#a3a3a3'
};

export function categoryColor(category: string): string {
  return CATEGORY_COLORS[category] ?? '#9ca3af';
}
