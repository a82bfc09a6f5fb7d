/**
 * Config: the applied resources (per namespace) with the `weft analyze` messages about each,
 * one resource as applied on a click; and for one connected proxy, what the control plane gives
 * it now (`weft proxy-config`), secret material already redacted by the control plane.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { ViewProps } from './main.js';
import type { AnalyzerMessage, ConfigRow, ProxyRow } from './types.js';
import { api, message } from './util.js';

function Messages({ messages }: { messages: AnalyzerMessage[] }) {
  if (messages.length === 0) return <span class="muted">none</span>;
  return <ul>{messages.map((m, i) => <li key={i} class={m.level}>{`${m.level} [${m.code}] ${m.path ? `${m.path}: ` : ''}${m.message}`}</li>)}</ul>;
}

type Opened = { row: ConfigRow; object: unknown } | string | undefined;

export function ConfigView({ namespace }: ViewProps) {
  const [rows, setRows] = useState<{ rows: ConfigRow[]; unattached: AnalyzerMessage[] } | string | undefined>(undefined);
  const [opened, setOpened] = useState<Opened>(undefined);
  const [proxies, setProxies] = useState<ProxyRow[]>([]);
  const [proxy, setProxy] = useState('');

  useEffect(() => {
    const q = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
    api<{ rows: ConfigRow[]; unattached: AnalyzerMessage[] }>(`/api/config${q}`).then(setRows, (err) => setRows(message(err)));
    api<{ proxies: ProxyRow[] }>('/api/proxies').then((r) => setProxies(r.proxies.filter((p) => !namespace || p.namespace === namespace)), () => {});
  }, []);

  const open = async (row: ConfigRow) => {
    try {
      setOpened({ row, object: await api<unknown>(`/api/config/object?${new URLSearchParams({ kind: row.kind, namespace: row.namespace, name: row.name })}`) });
    } catch (err) {
      setOpened(message(err));
    }
  };

  return (
    <>
      <h2>Applied resources</h2>
      <div class="split">
        <div>
          <table id="config">
            <thead><tr>{['Namespace', 'Kind', 'Name', 'Source', 'Analyzer messages'].map((h) => <th key={h}>{h}</th>)}</tr></thead>
            <tbody>
              {typeof rows === 'string' ? <tr><td class="error-text" colSpan={5}>{rows}</td></tr>
                : (rows?.rows ?? []).map((r) => (
                  <tr key={`${r.kind}/${r.namespace}/${r.name}`} class="clickable" data-resource={`${r.kind}/${r.namespace}/${r.name}`} onClick={() => void open(r)}>
                    <td>{r.namespace || '-'}</td><td>{r.kind}</td><td>{r.name}</td>
                    <td class="muted" title={r.source ?? ''}>{r.source ? r.source.split('/').pop() : '-'}</td>
                    <td><Messages messages={r.messages} /></td>
                  </tr>
                ))}
            </tbody>
          </table>
          {typeof rows === 'object' && rows.unattached.length ? <div><h3>Messages about no single resource</h3><Messages messages={rows.unattached} /></div> : null}
        </div>
        <aside class="panel" id="config-details">
          {typeof opened === 'string' ? <p class="error-text">{opened}</p>
            : opened ? <>
              <h3>{opened.row.kind} {opened.row.namespace ? `${opened.row.namespace}/` : ''}{opened.row.name}</h3>
              <Messages messages={opened.row.messages} />
              <pre>{JSON.stringify(opened.object, null, 2)}</pre>
            </> : <p class="muted">click a resource to see it as applied</p>}
        </aside>
      </div>
      <h2>Proxy config</h2>
      <label>proxy <select id="proxy" value={proxy} onChange={(e) => setProxy(e.currentTarget.value)}>
        <option value="">choose a proxy</option>
        {proxies.map((p) => <option key={p.nodeId} value={p.nodeId}>{p.nodeId} ({p.role}, {p.state})</option>)}
      </select></label>
      {proxy ? <ProxyConfig key={proxy} id={proxy} /> : <div id="proxy-config" />}
    </>
  );
}

interface Dump {
  version?: string;
  listeners?: { name: string; direction?: string; address?: string; port?: number }[];
  routes?: { name: string; virtualHosts?: { name: string }[] }[];
  clusters?: { name: string }[];
  endpoints?: { cluster: string; endpoints?: { address: string; port: number }[] }[];
  secrets?: { name: string; privateKey?: string }[];
}

function Section<T>({ title, items, describe }: { title: string; items: T[]; describe: (x: T) => ComponentChildren }) {
  return <details><summary>{title} ({items.length})</summary><ul>{items.map((x, i) => <li key={i}>{describe(x)}</li>)}</ul></details>;
}

function ProxyConfig({ id }: { id: string }) {
  const [config, setConfig] = useState<Dump | string | undefined>(undefined);
  useEffect(() => {
    api<{ config: Dump }>(`/api/proxy-config?proxyID=${encodeURIComponent(id)}`).then((r) => setConfig(r.config), (err) => setConfig(message(err)));
  }, []);
  if (config === undefined) return <div id="proxy-config"><p class="muted">loading</p></div>;
  if (typeof config === 'string') return <div id="proxy-config"><p class="error-text">{config}</p></div>;
  return (
    <div id="proxy-config">
      <p>version {config.version ?? '-'}</p>
      <Section title="Listeners" items={config.listeners ?? []} describe={(l) => `${l.name} ${l.direction ?? ''} ${l.address ?? ''}:${l.port ?? ''}`} />
      <Section title="Routes" items={config.routes ?? []} describe={(r) => `${r.name}: ${(r.virtualHosts ?? []).map((v) => v.name).join(', ')}`} />
      <Section title="Clusters" items={config.clusters ?? []} describe={(c) => c.name} />
      <Section title="Endpoints" items={config.endpoints ?? []} describe={(e) => `${e.cluster} (${(e.endpoints ?? []).map((x) => `${x.address}:${x.port}`).join(', ')})`} />
      <Section title="Secrets" items={config.secrets ?? []} describe={(s) => `${s.name}${s.privateKey ? ` key ${s.privateKey}` : ''}`} />
      <details><summary>Full config (JSON)</summary><pre>{JSON.stringify(config, null, 2)}</pre></details>
    </div>
  );
}
