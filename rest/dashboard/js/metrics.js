// Rule status as eKuiper returns it from GET /rules/{id}/status: a flat object with status,
// message and timestamps, then one key per node and metric, e.g.
//   source_demo_0_records_in_total, op_2_project_0_process_latency_us, sink_log_0_0_records_out_total.
// nodes() splits those keys into nodes (source first, then operators by plan index, sinks last).

export const METRICS = [
  'records_in_total', 'records_out_total', 'messages_processed_total', 'process_latency_us', 'buffer_length',
  'last_invocation', 'exceptions_total', 'last_exception_time', 'last_exception',
  'connection_status', 'connection_last_connected_time', 'connection_last_disconnected_time',
  'connection_last_disconnected_message', 'connection_last_try_time',
];

function rank(node) {
  if (node.startsWith('source_')) return [0, 0];
  const op = /^op_(\d+)_/.exec(node);
  if (op) return [1, +op[1]];
  if (node.startsWith('op_')) return [2, 0]; // sink sub-operators: op_<sink>_<idx>_<n>_encode
  if (node.startsWith('sink_')) return [3, 0];
  return [4, 0];
}

/** {node: {metric: value}} in flow order, from a status object. */
export function nodes(status) {
  const out = new Map();
  for (const [key, value] of Object.entries(status || {})) {
    const metric = METRICS.find((m) => key.endsWith('_' + m));
    if (!metric) continue;
    const node = key.slice(0, key.length - metric.length - 1);
    if (!out.has(node)) out.set(node, {});
    out.get(node)[metric] = value;
  }
  return [...out.entries()].sort((a, b) => {
    const ra = rank(a[0]), rb = rank(b[0]);
    return ra[0] - rb[0] || ra[1] - rb[1] || a[0].localeCompare(b[0]);
  });
}

/** Sum of a metric over the nodes whose name starts with prefix ("source_", "sink_"). */
export function total(status, prefix, metric) {
  let sum = 0, seen = false;
  for (const [node, m] of nodes(status)) {
    if (node.startsWith(prefix) && typeof m[metric] === 'number') { sum += m[metric]; seen = true; }
  }
  return seen ? sum : undefined;
}
