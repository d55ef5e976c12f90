/**
 * The running side of API-created endpoints: what the processes serving them read from the
 * ResourceStore (each endpoint's status, generation and config, with the model requests it
 * names) and what they record back — `InService` once a new config's model is healthy, `Failed`
 * with the reason when it cannot start (an update that fails rolls back to the config still
 * serving, as SageMaker does), and the removal of a `Deleting` endpoint once its queued requests
 * have been failed. Every write is a compare-and-set on the document read, so a status recorded
 * for an older generation never overwrites a newer Create/Update/Delete.
 */
import { InferqError } from '../errors/index.js';
import type { ResourceStore, StoredResource } from '../queue/index.js';
import type { Clock } from '../util/index.js';
import { EndpointDoc, ModelDoc, readDoc, type EndpointDocT } from './documents.js';

/** A stored endpoint as the serving processes see it. */
export interface EndpointRecord {
  readonly name: string;
  readonly status: EndpointDocT['status'];
  readonly generation: number;
  readonly configName: string;
  /** The CreateEndpointConfig request (minus Tags) the endpoint was created or last updated with. */
  readonly config: Readonly<Record<string, unknown>>;
  /** While `Updating`: the config still serving until the new one is healthy. */
  readonly previous?: { readonly configName: string; readonly config: Readonly<Record<string, unknown>> };
  readonly failureReason?: string;
  /** The stored document as read (the compare-and-set of writes). */
  readonly raw: StoredResource;
}

/** How a config's start-up ended, as a serving process records it. */
export type StartOutcome = { readonly kind: 'in-service' } | { readonly kind: 'failed'; readonly reason: string };

/** Longest FailureReason SageMaker returns. */
const MAX_FAILURE_REASON = 1024;

function recordOf(stored: StoredResource): EndpointRecord {
  const doc = readDoc(EndpointDoc, stored);
  return {
    name: doc.name, status: doc.status, generation: doc.generation, configName: doc.configName, config: doc.config, raw: stored,
    ...(doc.previous !== undefined ? { previous: doc.previous } : {}),
    ...(doc.failureReason !== undefined ? { failureReason: doc.failureReason } : {}),
  };
}

/** Every API-created endpoint, ordered by key. A document that cannot be read is skipped (listed by the control plane as an error). */
export async function listEndpointRecords(store: ResourceStore): Promise<EndpointRecord[]> {
  const records: EndpointRecord[] = [];
  for (const stored of await store.list('endpoint')) {
    try {
      records.push(recordOf(stored));
    } catch {
      continue;
    }
  }
  return records;
}

/** The CreateModel request (minus Tags) of model `name`. @throws InferqError ControlPlaneValidation when it is gone. */
export async function modelRequestOf(store: ResourceStore, name: string): Promise<Readonly<Record<string, unknown>>> {
  const stored = await store.get('model', name.toLowerCase());
  if (stored === undefined) throw new InferqError('ControlPlaneValidation', `Could not find model "${name}".`);
  return readDoc(ModelDoc, stored).request;
}

/** The document after `outcome` for a record that is `Creating` or `Updating`. */
function afterStart(doc: EndpointDocT, outcome: StartOutcome): EndpointDocT {
  const { failureReason: _reason, previous, ...rest } = doc;
  if (outcome.kind === 'in-service') return Object.assign({}, rest, { status: 'InService' as const });
  const failureReason = outcome.reason.slice(0, MAX_FAILURE_REASON);
  if (doc.status === 'Updating' && previous !== undefined) {
    return Object.assign({}, rest, { status: 'InService' as const, configName: previous.configName, config: previous.config, failureReason, generation: doc.generation + 1 });
  }
  return Object.assign({}, rest, { status: 'Failed' as const, failureReason });
}

/**
 * Records how the start of `record`'s config ended; false (nothing written) when the endpoint
 * changed since it was read or is not starting.
 */
export async function recordStartOutcome(store: ResourceStore, clock: Clock, record: EndpointRecord, outcome: StartOutcome): Promise<boolean> {
  if (record.status !== 'Creating' && record.status !== 'Updating') return false;
  const next = afterStart(readDoc(EndpointDoc, record.raw), outcome);
  return store.replace('endpoint', record.raw.key, JSON.stringify(next), clock.now(), record.raw.doc);
}

/** Removes a `Deleting` endpoint (its queued requests already failed). */
export async function removeDeletedEndpoint(store: ResourceStore, record: EndpointRecord): Promise<void> {
  if (record.status === 'Deleting') await store.delete('endpoint', record.raw.key);
}
