/**
 * Choosing the tfjs compute backend, and reporting the choice for the audit record.
 *
 * Why this order (measured, see ../shared/DESIGN.md): `tensorflow` (libtensorflow through `@tensorflow/tfjs-node` or
 * `-node-gpu`) is fastest when a user has installed it, but those packages download libtensorflow at install time, so they are
 * optional peer dependencies and never required. `wasm` with SIMD is ~30× faster than the pure-JS `cpu` backend and is the
 * default. `cpu` is the fallback, and the exactness reference. Wasm threads stay off: tfjs hard-codes them off in Node,
 * and enabling them there breaks the backend.
 *
 * Two side effects of tfjs are undone here, because they are not the library user's choice:
 * - the `cpu` backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on its first tensor
 *   (tfjs-backend-cpu `MathBackendCPU.write`, gated by a per-instance `firstUse` flag): every `cpu` instance is created
 *   with the flag already spent, so the banner never prints while other tfjs warnings still do;
 * - the wasm backend's emscripten module installs `process.on('uncaughtException', e => { throw e })` and
 *   `process.on('unhandledRejection', r => { throw r })` when it starts: any later error of the user's program is then
 *   re-thrown from inside a handler, which Node reports as exit code 7 with the minified 38 KB source line of the
 *   handler. The listeners the module adds are removed as soon as it has started, so errors surface as themselves,
 *   exit code 1.
 *
 * Without an explicit `initBackend()`, the library's async entry points call `ensureBackend()`, which picks the fastest
 * available backend once (the `auto` order) — unless the program already chose one itself.
 */
import { ProvenantError } from '../core/index.js';
import { tf } from './tf.js';

export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

/** Loads a module by specifier (a guarded dynamic `import`); injectable so tests can simulate installed or missing packages. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

export interface InitBackendOptions {
  /**
   * Which backend to use. `'auto'` (default): `tensorflow` when tfjs-node(-gpu) is installed, else `wasm`, else `cpu`.
   * Naming one backend makes its failure an error (`BACKEND_UNAVAILABLE`) instead of a fallback.
   */
  backend?: BackendName | 'auto';
  /** In `'auto'` mode, try tfjs-node(-gpu) first. Default true. Set false for reproducible wasm figures on a machine that has it. */
  preferNative?: boolean;
  /** Module loader; default a dynamic `import()`. */
  loader?: ModuleLoader;
}

export interface BackendInfo {
  /** The active tfjs backend. */
  backend: BackendName;
  /** What was asked for. */
  requested: BackendName | 'auto';
  /** Version of @tensorflow/tfjs-core in use. */
  tfjsVersion: string;
  /** Version of the backend package (`@tensorflow/tfjs-backend-wasm`, `@tensorflow/tfjs-node` …); the core version for cpu. */
  backendVersion: string;
  /** The package that provided the backend. */
  backendPackage: string;
  /** Whether the wasm binary in use is the SIMD build; null on other backends. */
  wasmSimd: boolean | null;
  /** Always false: wasm threads are never enabled (broken in Node). */
  wasmThreads: false;
  /** Why preferred backends were skipped, one line each (empty when the first choice worked). */
  fallbacks: string[];
  /** Numeric precision of float32 tensors on this backend (tfjs `EPSILON`). */
  epsilon: number;
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

const defaultLoader: ModuleLoader = (specifier) => import(/* @vite-ignore */ specifier);

/** Backend factories already wrapped (a factory is wrapped once, whichever path registered it). */
const wrappedFactories = new WeakSet<object>();

/** Wraps a registered backend's factory in place (tfjs keeps factories in a public registry; it has no other hook). */
function wrapFactory(name: string, wrap: (factory: () => unknown) => () => unknown): void {
  const entry = (tf.engine() as unknown as { registryFactory: Record<string, { factory: () => unknown }> }).registryFactory[name];
  if (!entry || wrappedFactories.has(entry)) return;
  entry.factory = wrap(entry.factory);
  wrappedFactories.add(entry);
}

/**
 * Creates every `cpu` backend with its Node.js banner already spent (see the file comment): the current instance's
 * `firstUse` flag is cleared and the registered factory wrapped, so "Hi, looks like you are running TensorFlow.js in
 * Node.js…" never prints while other tfjs warnings still do. Runs once when this module loads; idempotent.
 * @internal
 *
 * @example
 * ```ts
 * import { initBackend, silenceCpuBanner } from 'provenant/finetune';
 *
 * silenceCpuBanner(); // already done at import; a second call changes nothing
 * await initBackend({ backend: 'cpu' }); // no banner on the first tensor
 * ```
 */
export function silenceCpuBanner(): void {
  const spend = (backend: unknown): void => {
    if (backend && typeof backend === 'object' && 'firstUse' in backend) (backend as { firstUse: boolean }).firstUse = false;
  };
  spend((tf.engine() as unknown as { registry: Record<string, unknown> }).registry['cpu']);
  wrapFactory('cpu', (factory) => () => {
    const backend = factory();
    spend(backend);
    return backend;
  });
}

type ProcessEvent = 'uncaughtException' | 'unhandledRejection';
const PROCESS_EVENTS: readonly ProcessEvent[] = ['uncaughtException', 'unhandledRejection'];

/** Removes the process listeners added since `before` was taken (the emscripten module's re-throwing handlers). */
function removeAddedListeners(before: ReadonlyMap<ProcessEvent, readonly unknown[]>): void {
  if (typeof process === 'undefined' || typeof process.listeners !== 'function') return;
  for (const event of PROCESS_EVENTS) {
    const old = new Set(before.get(event) ?? []);
    for (const listener of (process as NodeJS.EventEmitter).listeners(event)) if (!old.has(listener)) (process as NodeJS.EventEmitter).removeListener(event, listener as (...args: unknown[]) => void);
  }
}

function snapshotListeners(): Map<ProcessEvent, unknown[]> {
  const snapshot = new Map<ProcessEvent, unknown[]>();
  if (typeof process !== 'undefined' && typeof process.listeners === 'function') {
    for (const event of PROCESS_EVENTS) snapshot.set(event, [...(process as NodeJS.EventEmitter).listeners(event)]);
  }
  return snapshot;
}

/**
 * Makes the wasm backend start without leaving emscripten's re-throwing `uncaughtException` / `unhandledRejection`
 * listeners behind (see the file comment): the registered wasm factory is wrapped so that the process listeners it adds
 * while starting are removed, and a later error of the program exits as itself (code 1), not through emscripten's
 * re-throwing handler (code 7). Call after `@tensorflow/tfjs-backend-wasm` has registered (`initBackend` does); a no-op
 * before. Idempotent.
 * @internal
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import { initBackend, neutraliseWasmProcessHandlers } from 'provenant/finetune';
 *
 * neutraliseWasmProcessHandlers(); // initBackend does this itself; shown for a program that registers wasm on its own
 * await initBackend({ backend: 'wasm' }); // process.listeners('uncaughtException') unchanged
 * ```
 */
export function neutraliseWasmProcessHandlers(): void {
  wrapFactory('wasm', (factory) => async () => {
    const before = snapshotListeners();
    try {
      return await factory();
    } finally {
      removeAddedListeners(before);
    }
  });
}

silenceCpuBanner();

function versionOf(module: unknown, fallback: string): string {
  const version = (module as { version_wasm?: string; version?: unknown } | null)?.version_wasm ?? (module as { version?: unknown } | null)?.version;
  if (typeof version === 'string') return version;
  if (version && typeof version === 'object' && 'tfjs-node' in version) return String((version as Record<string, unknown>)['tfjs-node']);
  return fallback;
}

async function activate(name: BackendName): Promise<void> {
  if (name === 'cpu') silenceCpuBanner();
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') did not take effect (active: ${tf.getBackend()})`);
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

async function tryNative(loader: ModuleLoader): Promise<{ pkg: string; version: string } | string[]> {
  const failures: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      const module = await loader(pkg);
      await activate('tensorflow');
      return { pkg, version: versionOf(module, tf.version_core) };
    } catch (error) {
      failures.push(`${pkg}: ${reason(error)}`);
    }
  }
  return failures;
}

async function tryWasm(loader: ModuleLoader): Promise<{ version: string; simd: boolean }> {
  // Threads stay off whatever the environment claims (tfjs turns them off in Node; a user's flag must not turn them on).
  const module = await loader(WASM_PACKAGE);
  neutraliseWasmProcessHandlers();
  // The flag exists only once the wasm package has registered it, and is read when the backend first initialises.
  if ('WASM_HAS_MULTITHREAD_SUPPORT' in (tf.env() as unknown as { flagRegistry: object }).flagRegistry) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  await activate('wasm');
  return { version: versionOf(module, tf.version_core), simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
}

/**
 * Selects and initialises the compute backend and returns what was chosen, for the audit record.
 *
 * @example
 * ```ts
 * import { initBackend } from 'provenant/finetune';
 * const info = await initBackend();            // wasm (SIMD) here; tensorflow where tfjs-node is installed
 * console.log(info.backend, info.wasmSimd, info.tfjsVersion);
 * await initBackend({ backend: 'cpu' });        // exact pure-JS reference
 * ```
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const chosen = selectBackend(options);
  explicitChoice = chosen;
  return chosen;
}

/** The pending or settled choice of the last `initBackend` call (null before any). */
let explicitChoice: Promise<BackendInfo> | null = null;
/** The automatic choice made by `ensureBackend` (null until it runs). */
let automaticChoice: Promise<BackendInfo | null> | null = null;

/**
 * Makes sure a fast backend is active before the library's first heavy work, without an explicit `initBackend()`: the
 * first call picks one as `initBackend()` does (`auto`: tfjs-node, else wasm with SIMD, else cpu); later calls return
 * that choice. It changes nothing when the program chose itself — an `initBackend` call, or a non-`cpu` backend set
 * through tfjs (a tfjs `cpu` that no one asked for is the default tfjs falls back to, and is replaced). Resolves to
 * what was chosen, or null when the program's own choice stands.
 *
 * @example
 * ```ts
 * import { ensureBackend } from 'provenant/finetune';
 * await ensureBackend(); // wasm here, with no initBackend() in the user's program
 * ```
 */
export async function ensureBackend(): Promise<BackendInfo | null> {
  if (explicitChoice) return explicitChoice.catch(() => null);
  if (automaticChoice) return automaticChoice;
  const current = (tf.engine() as unknown as { backendName: string | null }).backendName;
  if (current && current !== 'cpu') return null;
  automaticChoice = selectBackend({}).catch(() => null);
  return automaticChoice;
}

async function selectBackend(options: InitBackendOptions): Promise<BackendInfo> {
  const requested = options.backend ?? 'auto';
  const loader = options.loader ?? defaultLoader;
  if (!['auto', 'wasm', 'cpu', 'tensorflow'].includes(requested)) {
    throw new ProvenantError('BACKEND_UNAVAILABLE', `Unknown backend "${String(requested)}".`, {
      details: 'Use "auto", "wasm", "cpu" or "tensorflow".',
    });
  }
  const fallbacks: string[] = [];
  const info = (backend: BackendName, backendPackage: string, backendVersion: string, wasmSimd: boolean | null): BackendInfo => ({
    backend,
    requested,
    tfjsVersion: tf.version_core,
    backendVersion,
    backendPackage,
    wasmSimd,
    wasmThreads: false,
    fallbacks,
    epsilon: tf.backend().epsilon(),
  });

  if (requested === 'tensorflow' || (requested === 'auto' && options.preferNative !== false)) {
    const native = await tryNative(loader);
    if (!Array.isArray(native)) return info('tensorflow', native.pkg, native.version, null);
    if (requested === 'tensorflow') {
      throw new ProvenantError('BACKEND_UNAVAILABLE', 'The "tensorflow" backend needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu.', {
        metaMessages: native,
        details: 'Install one of them (npm install @tensorflow/tfjs-node), or use "wasm".',
      });
    }
    fallbacks.push(...native);
  }
  if (requested === 'wasm' || requested === 'auto') {
    try {
      const wasm = await tryWasm(loader);
      if (!wasm.simd) fallbacks.push(`${WASM_PACKAGE}: SIMD is not supported here; the scalar wasm build is slower`);
      return info('wasm', WASM_PACKAGE, wasm.version, wasm.simd);
    } catch (error) {
      if (requested === 'wasm') {
        throw new ProvenantError('BACKEND_UNAVAILABLE', 'The "wasm" backend could not start.', {
          metaMessages: [reason(error)],
          details: `Check that ${WASM_PACKAGE} is installed and matches @tensorflow/tfjs, or use "cpu".`,
          cause: error,
        });
      }
      fallbacks.push(`${WASM_PACKAGE}: ${reason(error)}`);
    }
  }
  try {
    await activate('cpu');
  } catch (error) {
    throw new ProvenantError('BACKEND_UNAVAILABLE', 'No tfjs backend could start (not even "cpu").', {
      metaMessages: [...fallbacks, `cpu: ${reason(error)}`],
      cause: error,
    });
  }
  return info('cpu', '@tensorflow/tfjs-backend-cpu', tf.version_core, null);
}

/**
 * What the active backend is, without changing it (for the audit record of a run whose caller set the backend itself):
 * its name, the tfjs-core version, whether wasm runs its SIMD build (null on other backends), `wasmThreads: false`
 * (never enabled in Node) and the float32 epsilon of the backend (tfjs `EPSILON`, e.g. 1e-7).
 *
 * @example
 * ```ts
 * import { describeBackend, initBackend } from 'provenant/finetune';
 *
 * await initBackend({ backend: 'cpu' });
 * describeBackend(); // { backend: 'cpu', tfjsVersion: '4.22.0', wasmSimd: null, wasmThreads: false, epsilon: 1e-7 }
 * ```
 */
export function describeBackend(): Pick<BackendInfo, 'backend' | 'tfjsVersion' | 'wasmSimd' | 'wasmThreads' | 'epsilon'> & { backend: string } {
  const backend = tf.getBackend();
  return {
    backend: backend as BackendName,
    tfjsVersion: tf.version_core,
    wasmSimd: backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : null,
    wasmThreads: false,
    epsilon: tf.backend().epsilon(),
  };
}
