// Configuration: what the REST API can read back today (server information from GET /, and the
// metadata and connection endpoints when the server has them), each shown or marked "not available".
import { h, replace, fmtBytes, fmtDuration, jsonBlock } from '../dom.js';
import { api, ApiError } from '../api.js';

const SECTIONS = [
  ['/configs', 'Basic settings in force (change them with PATCH /configs)'],
  ['/metadata/sources', 'Source types'],
  ['/metadata/sinks', 'Sink types'],
  ['/metadata/functions', 'Functions'],
  ['/connections', 'Connections'],
  ['/metadata/sources/yaml/mqtt', 'MQTT source configuration (etc/mqtt_source.yaml)'],
];

export function render(main) {
  const info = h('div.card', h('p.muted', 'Loading…'));
  main.append(h('h1', 'Configuration'), info);
  api('GET', '/').then((i) => replace(info, h('h2', 'Server'),
    h('dl.figures', { style: 'max-width:460px', 'data-testid': 'server-info' },
      h('dt', 'version'), h('dd', i.version),
      h('dt', 'os / arch'), h('dd', `${i.os} / ${i.arch}`),
      h('dt', 'up for'), h('dd', fmtDuration(i.upTimeSeconds)),
      i.cpuUsage !== undefined ? [h('dt', 'CPU'), h('dd', String(i.cpuUsage))] : null,
      h('dt', 'memory used'), h('dd', fmtBytes(i.memoryUsed)),
      h('dt', 'memory total'), h('dd', fmtBytes(i.memoryTotal))),
    h('p.small.muted', 'Settings come from etc/kuiper.yaml and KUIPER__SECTION__KEY environment variables; ',
      'they are read at start.')))
    .catch((e) => replace(info, h('div.error-box', e.message)));
  for (const [path, title] of SECTIONS) {
    const body = h('div', h('p.muted', 'Loading…'));
    main.append(h('div.card', h('h2', title, ' ', h('code.small.muted', `GET ${path}`)), body));
    api('GET', path).then((v) => replace(body, jsonBlock(v))).catch((e) => replace(body,
      e instanceof ApiError && e.missingEndpoint ? h('p.na', 'Not available in this kuiperd yet.') : h('div.error-box', e.message)));
  }
}
