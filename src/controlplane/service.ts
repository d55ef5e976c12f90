/**
 * The control-plane operations over the ResourceStore: models, endpoint configs and endpoints
 * with SageMaker's names, ARNs, timestamps and errors ("Could not find …" and "Cannot create
 * already existing …" are ValidationException, as SageMaker answers them). Endpoints from the
 * configuration file are listed and described too, and refuse API changes. An endpoint keeps a
 * copy of the endpoint config it was created or updated with, as SageMaker's do.
 */
import type { z } from 'zod';
import { InferqError } from '../errors/index.js';
import type { ResourceKind, ResourceStore, StoredResource } from '../queue/index.js';
import type { Clock } from '../util/index.js';
import {
  ConfigDoc, EndpointDoc, ModelDoc, arnOf, epochSeconds, readDoc, type ArnScope, type ConfigDocT, type EndpointDocT, type ModelDocT,
} from './documents.js';
import { listPage, type Listed } from './listing.js';
import type { CreateEndpoint, CreateEndpointConfig, CreateModel, ListRequest, UpdateEndpoint } from './wire.js';

/** An endpoint of the configuration file, as the control plane shows it. */
export interface ConfigManagedEndpoint {
  readonly name: string;
  readonly status: 'InService' | 'OutOfService';
  readonly failureReason?: string;
  readonly instances: number;
  /** Epoch ms (when this process started serving it). */
  readonly since: number;
}

/** What the control plane works on. */
export interface ControlPlaneDeps {
  readonly store: ResourceStore;
  readonly clock: Clock;
  readonly scope: ArnScope;
  /** The configuration file's endpoints (read on every call). */
  readonly configEndpoints: () => readonly ConfigManagedEndpoint[];
  /** Whether a container image is in the `images` map (built-in images included). */
  readonly knownImage: (image: string) => boolean;
  /**
   * Throws the ValidationException a config would get when its endpoint starts (a bad
   * S3OutputPath, an unusable NotificationConfig or ModelDataUrl …), so CreateEndpointConfig refuses it.
   */
  readonly checkDeployment?: (configName: string, configRequest: Doc, modelRequest: Doc) => void;
  /** Instances this process sees running for an API-created endpoint (undefined: it does not serve it). */
  readonly liveInstances?: (name: string) => number | undefined;
  /** Told after each change of an endpoint, so this process acts on it at once (others poll the store). */
  readonly onChange?: () => void;
}

type Doc = Record<string, unknown>;
/** The kinds of stored resource the control plane owns (src/autoscaling owns the others). */
type ControlPlaneKind = Extract<ResourceKind, 'model' | 'endpoint-config' | 'endpoint'>;
const KIND_WORDS: Record<ControlPlaneKind, string> = { model: 'model', 'endpoint-config': 'endpoint configuration', endpoint: 'endpoint' };

function notFound(kind: ControlPlaneKind, name: string): InferqError {
  return new InferqError('ControlPlaneValidation', `Could not find ${KIND_WORDS[kind]} "${name}".`);
}

function configManaged(name: string): InferqError {
  return new InferqError('ControlPlaneValidation', `Endpoint ${name} is managed by the configuration file (endpoints: in the inferq configuration) and cannot be changed through the SageMaker API; change the file and restart inferq.`);
}

/** The control plane of one inferq deployment. */
export class ControlPlane {
  constructor(private readonly deps: ControlPlaneDeps) {}

  private arn(kind: ResourceKind, name: string): string {
    return arnOf(this.deps.scope, kind, name);
  }

  private configEndpoint(name: string): ConfigManagedEndpoint | undefined {
    const key = name.toLowerCase();
    return this.deps.configEndpoints().find((e) => e.name.toLowerCase() === key);
  }

  private async load(kind: ControlPlaneKind, name: string): Promise<StoredResource> {
    const stored = await this.deps.store.get(kind, name.toLowerCase());
    if (stored === undefined) throw notFound(kind, name);
    return stored;
  }

  private async createResource(kind: ControlPlaneKind, name: string, doc: object): Promise<string> {
    const now = this.deps.clock.now();
    const arn = this.arn(kind, name);
    const created = await this.deps.store.create({ kind, key: name.toLowerCase(), doc: JSON.stringify(doc), createdAt: now, modifiedAt: now });
    if (!created) throw new InferqError('ControlPlaneValidation', `Cannot create already existing ${KIND_WORDS[kind]} "${arn}".`);
    return arn;
  }

  /** Endpoints (stored ones) that use `kind` resource `name`. */
  private async usersOf(kind: 'model' | 'endpoint-config', name: string): Promise<string[]> {
    const key = name.toLowerCase();
    const users: string[] = [];
    for (const stored of await this.deps.store.list('endpoint')) {
      const doc = readDoc(EndpointDoc, stored);
      // While Updating, the previous config still serves (and is restored if the new one fails): it is in use too.
      const deployed = [{ configName: doc.configName, config: doc.config }, ...(doc.previous !== undefined ? [doc.previous] : [])];
      const uses = deployed.some(({ configName, config }) => {
        const variants = Array.isArray(config['ProductionVariants']) ? (config['ProductionVariants'] as Doc[]) : [];
        return kind === 'endpoint-config'
          ? configName.toLowerCase() === key
          : variants.some((v) => typeof v['ModelName'] === 'string' && v['ModelName'].toLowerCase() === key);
      });
      if (uses) users.push(doc.name);
    }
    return users;
  }

  private async deleteUnused(kind: 'model' | 'endpoint-config', name: string): Promise<void> {
    const users = await this.usersOf(kind, name);
    if (users.length > 0) throw new InferqError('ResourceInUse', `Cannot delete ${KIND_WORDS[kind]} "${name}": endpoint ${users.join(', ')} uses it; delete or update the endpoint first.`);
    if (!(await this.deps.store.delete(kind, name.toLowerCase()))) throw notFound(kind, name);
  }

  async createModel(req: z.infer<typeof CreateModel>): Promise<Doc> {
    if (req.PrimaryContainer === undefined && (req.Containers ?? []).length === 0) {
      throw new InferqError('ControlPlaneValidation', 'Either PrimaryContainer or Containers must be given.');
    }
    for (const container of [...(req.PrimaryContainer ? [req.PrimaryContainer] : []), ...(req.Containers ?? [])]) {
      if (container.Image === undefined) throw new InferqError('ControlPlaneValidation', 'Every container needs an Image.');
      if (!this.deps.knownImage(container.Image)) {
        throw new InferqError('ControlPlaneValidation', `Image "${container.Image}" is not in the images map of the inferq configuration (images:); inferq/echo and inferq/vad are built in.`);
      }
    }
    const { Tags, ...request } = req;
    const doc: ModelDocT = { name: req.ModelName, request, tags: Tags ?? [] };
    return { ModelArn: await this.createResource('model', req.ModelName, doc) };
  }

  async describeModel(name: string): Promise<Doc> {
    const stored = await this.load('model', name);
    const doc = readDoc(ModelDoc, stored);
    return Object.assign({}, doc.request, { ModelName: doc.name, ModelArn: this.arn('model', doc.name), CreationTime: epochSeconds(stored.createdAt) });
  }

  async deleteModel(name: string): Promise<Doc> {
    await this.deleteUnused('model', name);
    return {};
  }

  async listModels(req: z.infer<typeof ListRequest>): Promise<Doc> {
    const items = (await this.deps.store.list('model')).map((s) => ({ name: readDoc(ModelDoc, s).name, createdAt: s.createdAt, modifiedAt: s.modifiedAt }));
    const { page, nextToken } = listPage(items, req);
    return { Models: page.map((m) => ({ ModelName: m.name, ModelArn: this.arn('model', m.name), CreationTime: epochSeconds(m.createdAt) })), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  async createEndpointConfig(req: z.infer<typeof CreateEndpointConfig>): Promise<Doc> {
    const { Tags, ...request } = req;
    for (const [i, variant] of req.ProductionVariants.entries()) {
      if (variant.ModelName === undefined) throw new InferqError('ControlPlaneValidation', `ProductionVariant ${variant.VariantName} names no ModelName.`);
      const model = await this.deps.store.get('model', variant.ModelName.toLowerCase());
      if (model === undefined) throw notFound('model', variant.ModelName);
      if (i === 0) this.deps.checkDeployment?.(req.EndpointConfigName, request, readDoc(ModelDoc, model).request);
    }
    const doc: ConfigDocT = { name: req.EndpointConfigName, request, tags: Tags ?? [] };
    return { EndpointConfigArn: await this.createResource('endpoint-config', req.EndpointConfigName, doc) };
  }

  async describeEndpointConfig(name: string): Promise<Doc> {
    const stored = await this.load('endpoint-config', name);
    const doc = readDoc(ConfigDoc, stored);
    return Object.assign({}, doc.request, { EndpointConfigName: doc.name, EndpointConfigArn: this.arn('endpoint-config', doc.name), CreationTime: epochSeconds(stored.createdAt) });
  }

  async deleteEndpointConfig(name: string): Promise<Doc> {
    await this.deleteUnused('endpoint-config', name);
    return {};
  }

  async listEndpointConfigs(req: z.infer<typeof ListRequest>): Promise<Doc> {
    const items = (await this.deps.store.list('endpoint-config')).map((s) => ({ name: readDoc(ConfigDoc, s).name, createdAt: s.createdAt, modifiedAt: s.modifiedAt }));
    const { page, nextToken } = listPage(items, req);
    return {
      EndpointConfigs: page.map((c) => ({ EndpointConfigName: c.name, EndpointConfigArn: this.arn('endpoint-config', c.name), CreationTime: epochSeconds(c.createdAt) })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  private async configSnapshot(configName: string): Promise<Doc> {
    return readDoc(ConfigDoc, await this.load('endpoint-config', configName)).request;
  }

  async createEndpoint(req: z.infer<typeof CreateEndpoint>): Promise<Doc> {
    if (this.configEndpoint(req.EndpointName) !== undefined) {
      throw new InferqError('ControlPlaneValidation', `Cannot create already existing endpoint "${this.arn('endpoint', req.EndpointName)}" (it is managed by the configuration file).`);
    }
    const config = await this.configSnapshot(req.EndpointConfigName);
    const doc: EndpointDocT = { name: req.EndpointName, configName: req.EndpointConfigName, config, status: 'Creating', tags: req.Tags ?? [], generation: 1 };
    const arn = await this.createResource('endpoint', req.EndpointName, doc);
    this.deps.onChange?.();
    return { EndpointArn: arn };
  }

  async updateEndpoint(req: z.infer<typeof UpdateEndpoint>): Promise<Doc> {
    if (this.configEndpoint(req.EndpointName) !== undefined) throw configManaged(req.EndpointName);
    const stored = await this.load('endpoint', req.EndpointName);
    const doc = readDoc(EndpointDoc, stored);
    if (doc.status === 'Deleting') throw new InferqError('ResourceInUse', `Cannot update endpoint "${doc.name}" while it is being deleted.`);
    if (doc.status === 'Creating' || doc.status === 'Updating') {
      throw new InferqError('ControlPlaneValidation', `Cannot update in-progress endpoint "${this.arn('endpoint', doc.name)}" (it is ${doc.status}); wait until it is InService.`);
    }
    const config = await this.configSnapshot(req.EndpointConfigName);
    const { failureReason: _reason, ...rest } = doc;
    const next: EndpointDocT = Object.assign({}, rest, {
      configName: req.EndpointConfigName, config, status: 'Updating' as const, generation: doc.generation + 1,
      ...(doc.status === 'InService' ? { previous: { configName: doc.configName, config: doc.config } } : {}),
    });
    if (!(await this.deps.store.replace('endpoint', stored.key, JSON.stringify(next), this.deps.clock.now(), stored.doc))) {
      throw new InferqError('ControlPlaneValidation', `Cannot update in-progress endpoint "${this.arn('endpoint', doc.name)}": it changed meanwhile; try again.`);
    }
    this.deps.onChange?.();
    return { EndpointArn: this.arn('endpoint', doc.name) };
  }

  /** Marks the endpoint `Deleting`; the processes serving it fail its queued requests, stop its model and remove it. */
  async deleteEndpoint(name: string): Promise<Doc> {
    if (this.configEndpoint(name) !== undefined) throw configManaged(name);
    const stored = await this.load('endpoint', name);
    const doc = readDoc(EndpointDoc, stored);
    if (doc.status !== 'Deleting') {
      const next: EndpointDocT = Object.assign({}, doc, { status: 'Deleting' as const, generation: doc.generation + 1 });
      await this.deps.store.replace('endpoint', stored.key, JSON.stringify(next), this.deps.clock.now());
    }
    this.deps.onChange?.();
    return {};
  }

  private describeStoredEndpoint(stored: StoredResource): Doc {
    const doc = readDoc(EndpointDoc, stored);
    const variants = Array.isArray(doc.config['ProductionVariants']) ? (doc.config['ProductionVariants'] as Doc[]) : [];
    return {
      EndpointName: doc.name,
      EndpointArn: this.arn('endpoint', doc.name),
      EndpointConfigName: doc.configName,
      ProductionVariants: variants.map((v) => ({
        VariantName: v['VariantName'],
        CurrentWeight: v['InitialVariantWeight'] ?? 1,
        DesiredWeight: v['InitialVariantWeight'] ?? 1,
        DesiredInstanceCount: v['InitialInstanceCount'] ?? 1,
        ...(doc.status === 'InService' || doc.status === 'Updating' ? { CurrentInstanceCount: this.deps.liveInstances?.(doc.name) ?? v['InitialInstanceCount'] ?? 1 } : {}),
      })),
      EndpointStatus: doc.status,
      ...(doc.failureReason !== undefined ? { FailureReason: doc.failureReason } : {}),
      CreationTime: epochSeconds(stored.createdAt),
      LastModifiedTime: epochSeconds(stored.modifiedAt),
      ...(doc.config['AsyncInferenceConfig'] !== undefined ? { AsyncInferenceConfig: doc.config['AsyncInferenceConfig'] } : {}),
    };
  }

  private describeConfigEndpoint(e: ConfigManagedEndpoint): Doc {
    return {
      EndpointName: e.name,
      EndpointArn: this.arn('endpoint', e.name),
      EndpointConfigName: e.name,
      ProductionVariants: [{ VariantName: 'AllTraffic', CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: e.instances, DesiredInstanceCount: e.instances }],
      EndpointStatus: e.status,
      ...(e.failureReason !== undefined ? { FailureReason: e.failureReason } : {}),
      CreationTime: epochSeconds(e.since),
      LastModifiedTime: epochSeconds(e.since),
      Tags: [{ Key: 'inferq:managed-by', Value: 'configuration-file' }],
    };
  }

  async describeEndpoint(name: string): Promise<Doc> {
    const managed = this.configEndpoint(name);
    if (managed !== undefined) {
      const { Tags: _tags, ...doc } = this.describeConfigEndpoint(managed);
      return doc;
    }
    return this.describeStoredEndpoint(await this.load('endpoint', name));
  }

  async listEndpoints(req: z.infer<typeof ListRequest>): Promise<Doc> {
    const items: (Listed & { name: string; status: string })[] = [];
    for (const e of this.deps.configEndpoints()) items.push({ name: e.name, createdAt: e.since, modifiedAt: e.since, status: e.status });
    for (const s of await this.deps.store.list('endpoint')) {
      const doc = readDoc(EndpointDoc, s);
      items.push({ name: doc.name, createdAt: s.createdAt, modifiedAt: s.modifiedAt, status: doc.status });
    }
    const { page, nextToken } = listPage(items, req);
    return {
      Endpoints: page.map((e) => ({
        EndpointName: e.name, EndpointArn: this.arn('endpoint', e.name), CreationTime: epochSeconds(e.createdAt), LastModifiedTime: epochSeconds(e.modifiedAt), EndpointStatus: e.status,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }
}
