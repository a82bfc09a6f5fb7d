/**
 * Workloads: every pod with READY, STATUS, RESTARTS and AGE as `weft get pods` prints them, and
 * its proxy's sync status, config version and replica as `weft proxy-status` prints them.
 * Rows are replaced whenever the event stream sends a new list.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ViewProps } from './main.js';
import type { WorkloadRow } from './types.js';
import { age, api, message, useLive } from './util.js';

const COLUMNS = ['Namespace', 'Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Proxy', 'Config version', 'Replica'];

export function WorkloadsView({ namespace }: ViewProps) {
  const [items, setItems] = useState<WorkloadRow[] | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    const q = namespace ? `?namespace=${encodeURIComponent(namespace)}` : '';
    api<{ items: WorkloadRow[] }>(`/api/workloads${q}`).then((r) => setItems(r.items), (err) => setError(message(err)));
  }, []);
  useLive('workloads', (data) => setItems(data.items));
  return (
    <>
      <h2>Workloads</h2>
      <table id="workloads">
        <thead><tr>{COLUMNS.map((h) => <th key={h}>{h}</th>)}</tr></thead>
        <tbody>
          {(items ?? []).map((w) => (
            <tr key={`${w.namespace}/${w.name}`} data-pod={`${w.namespace}/${w.name}`}>
              <td>{w.namespace}</td>
              <td>{w.name}</td>
              <td class="ready">{w.ready}</td>
              <td class={`status ${w.status}`}>{w.status}</td>
              <td class="restarts">{w.restarts}</td>
              <td>{age(w.createdAt)}</td>
              <td>{w.ip ?? '<none>'}</td>
              <td class={`sync ${w.proxy?.state ?? ''}`} title={w.proxy?.nack ?? ''}>{w.proxy ? w.proxy.state : '-'}</td>
              <td class="version">{w.proxy?.version ?? '-'}</td>
              <td>{w.proxy?.replica ?? '-'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">{error || (items === undefined ? 'loading' : items.length === 0 ? 'no pods' : `${items.length} pods`)}</p>
    </>
  );
}
