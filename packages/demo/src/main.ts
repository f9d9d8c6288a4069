/**
 * The demo page: camera (or the sample clip when there is none) → FaceStylizer → canvas, with a
 * style-pack picker, strength and exaggeration sliders, a before/after toggle and an fps /
 * per-stage latency overlay.
 *
 * URL parameters (handy for tests and screenshots): `source=camera|clip`, `pack=<id>|none`,
 * `ep=wasm` or `ep=webgpu,wasm` (execution providers in order), `resolution=auto|1920x1080|1280x720|640x480`.
 */
import { FaceStylizer, FaceStylizerError, StylePackError, type ExecutionProvider, type PipelineStats } from '@face-stylizer/sdk';
import { initBuilder } from './builder';
import { formatStats } from './overlay';
import { listPacks, type PackEntry } from './packs';

const ASSET_BASE = new URL('./assets/', location.href).href;
const PACKS_INDEX = new URL('packs/index.json', ASSET_BASE).href;
/** Made by scripts/make-sample-clip.mjs at set-up (a synthetic face rendered by the project). */
const SAMPLE_CLIP = new URL('./media/sample-face.webm', location.href).href;
const NO_PACK = 'none';

type SourceKind = 'camera' | 'clip';

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  status: element<HTMLParagraphElement>('status'),
  canvas: element<HTMLCanvasElement>('output'),
  overlay: element<HTMLPreElement>('overlay'),
  badge: element<HTMLSpanElement>('badge'),
  pack: element<HTMLSelectElement>('pack'),
  preview: element<HTMLImageElement>('pack-preview'),
  description: element<HTMLElement>('pack-description'),
  strength: element<HTMLInputElement>('strength'),
  strengthValue: element<HTMLOutputElement>('strength-value'),
  exaggeration: element<HTMLInputElement>('exaggeration'),
  exaggerationValue: element<HTMLOutputElement>('exaggeration-value'),
  grade: element<HTMLInputElement>('grade'),
  gradeValue: element<HTMLOutputElement>('grade-value'),
  before: element<HTMLInputElement>('before'),
  source: element<HTMLSelectElement>('source'),
  resolution: element<HTMLSelectElement>('resolution'),
  resolutionActual: element<HTMLOutputElement>('resolution-actual'),
  error: element<HTMLParagraphElement>('error'),
};

/** What tests and curious users can inspect from the console. */
interface DemoState {
  stylizer?: FaceStylizer;
  source?: SourceKind;
  /** The camera's delivered size, e.g. "1280x720" (the clip's when it plays). */
  resolution?: string;
  packId: string;
  lastStats?: PipelineStats;
  errors: string[];
  ready: boolean;
}
const demo: DemoState = { packId: NO_PACK, errors: [], ready: false };
(window as unknown as { faceStylizerDemo: DemoState }).faceStylizerDemo = demo;

let packs: PackEntry[] = [];
/** Appended to the state line, e.g. why the sample clip plays. */
let sourceNote = '';
let stream: { unsubscribe(): void } | undefined;
let stopSource: () => void = () => undefined;

function setStatus(text: string): void {
  ui.status.textContent = text;
}

function showError(error: unknown, context: string): void {
  const text =
    error instanceof StylePackError || error instanceof FaceStylizerError
      ? `${context}: ${error.name} [${error.code}] ${error.message}`
      : `${context}: ${error instanceof Error ? error.message : String(error)}`;
  demo.errors.push(text);
  ui.error.textContent = text;
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

const packUrl = (id: string) => {
  const entry = packs.find((pack) => pack.id === id);
  return entry ? new URL(entry.path, PACKS_INDEX).href : undefined;
};

function showPackInfo(id: string): void {
  const entry = packs.find((pack) => pack.id === id);
  if (entry) {
    ui.preview.src = new URL(entry.preview, PACKS_INDEX).href;
    ui.preview.hidden = false;
    ui.description.textContent = entry.description;
  } else {
    ui.preview.hidden = true;
    ui.description.textContent = 'The base model’s own generator, loaded from the asset base.';
  }
}

/** Exaggeration slider: the pack's recommended α range, else the generator's. */
function updateAlphaRange(stylizer: FaceStylizer): void {
  const range = stylizer.pack?.alpha ?? stylizer.contract.alpha;
  ui.exaggeration.min = String(range.min);
  ui.exaggeration.max = String(range.max);
  ui.exaggeration.value = String(range.default);
  ui.exaggerationValue.textContent = range.default.toFixed(2);
  stylizer.setOptions({ exaggeration: range.default });
}

function applyStrength(stylizer: FaceStylizer): void {
  const strength = ui.before.checked ? 0 : Number(ui.strength.value);
  ui.badge.hidden = !ui.before.checked;
  stylizer.setOptions({ strength });
}

async function openSource(kind: SourceKind): Promise<{ source: MediaStream | HTMLVideoElement; kind: SourceKind; stop: () => void }> {
  sourceNote = kind === 'clip' ? ' Source: the sample clip.' : '';
  if (kind === 'camera') {
    try {
      const camera = await FaceStylizer.openCamera(cameraConstraints(ui.resolution.value));
      return { source: camera, kind, stop: () => camera.getTracks().forEach((track) => track.stop()) };
    } catch (error) {
      const code = error instanceof FaceStylizerError ? error.code : 'camera-error';
      sourceNote = ` Source: the sample clip (no camera: ${code}).`;
      setStatus(`No camera (${code}): playing the sample clip.`);
    }
  }
  const video = document.createElement('video');
  video.muted = true;
  video.loop = true;
  video.playsInline = true;
  video.src = SAMPLE_CLIP;
  try {
    await video.play();
  } catch (cause) {
    throw new Error(`The sample clip ${SAMPLE_CLIP} could not be played (run npm run setup with ffmpeg installed).`, { cause });
  }
  return {
    source: video,
    kind: 'clip',
    stop: () => {
      video.pause();
      video.removeAttribute('src');
      video.load();
    },
  };
}

/** The resolution picker: 'auto' is the SDK's default (1280×720 where the camera offers it). */
function cameraConstraints(choice: string): MediaTrackConstraints {
  const [width, height] = choice.split('x').map(Number);
  return width && height ? { width: { ideal: width }, height: { ideal: height } } : FaceStylizer.CAMERA_DEFAULT;
}

function showResolution(source: MediaStream | HTMLVideoElement): void {
  const settings = source instanceof MediaStream ? source.getVideoTracks()[0]?.getSettings() : undefined;
  const size = settings ? [settings.width, settings.height] : source instanceof HTMLVideoElement ? [source.videoWidth, source.videoHeight] : [];
  demo.resolution = size.join('x');
  ui.resolutionActual.textContent = size.every(Boolean) ? size.join('×') : '';
}

async function startSource(stylizer: FaceStylizer, kind: SourceKind): Promise<void> {
  stream?.unsubscribe();
  stopSource();
  const opened = await openSource(kind);
  stopSource = opened.stop;
  demo.source = opened.kind;
  ui.source.value = opened.kind;
  ui.resolution.disabled = opened.kind !== 'camera';
  showResolution(opened.source);
  stream = stylizer.stylize(opened.source).subscribe({
    error: (error: unknown) => {
      showError(error, 'Stream stopped');
      setStatus('Stopped.');
    },
  });
}

async function createStylizer(packId: string, providers: ExecutionProvider[] | undefined): Promise<FaceStylizer> {
  const onProgress = ({ url, bytesLoaded, bytesTotal }: { url: string; bytesLoaded: number; bytesTotal: number }) => {
    const name = url.slice(url.lastIndexOf('/') + 1);
    const percent = bytesTotal > 0 ? ` ${Math.round((100 * bytesLoaded) / bytesTotal)} %` : '';
    setStatus(`Loading ${name}${percent}…`);
  };
  const options = {
    assetBase: ASSET_BASE,
    canvas: ui.canvas,
    onProgress,
    ...(providers ? { executionProviders: providers } : {}),
  };
  const url = packUrl(packId);
  try {
    const stylizer = await FaceStylizer.create({ ...options, ...(url ? { pack: url } : {}) });
    demo.packId = url ? packId : NO_PACK;
    return stylizer;
  } catch (error) {
    if (!(error instanceof StylePackError)) throw error;
    // A broken pack must not keep the demo from running: report it and use the base generator.
    showError(error, `Style pack "${packId}" refused`);
    demo.packId = NO_PACK;
    return FaceStylizer.create(options);
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const providers = params.get('ep')?.split(',').filter(Boolean) as ExecutionProvider[] | undefined;
  const index = await listPacks(PACKS_INDEX);
  packs = index.packs;
  ui.pack.replaceChildren(
    ...packs.map((pack) => new Option(pack.name, pack.id)),
    new Option('Base generator (no pack)', NO_PACK),
  );
  const requested = params.get('pack') ?? index.default ?? NO_PACK;
  // the pack builder (only where the demo server runs it): a finished pack joins the picker
  const fillPicker = (list: PackEntry[]) => {
    const current = ui.pack.value;
    ui.pack.replaceChildren(...list.map((pack) => new Option(pack.name, pack.id)), new Option('Base generator (no pack)', NO_PACK));
    ui.pack.value = current;
  };
  // independent of the models loading below
  initBuilder({
    onPackBuilt: async () => {
      packs = (await listPacks(PACKS_INDEX)).packs;
      fillPicker(packs);
    },
    onUsePack: (id) => {
      ui.pack.value = id;
      ui.pack.dispatchEvent(new Event('change'));
    },
  }).catch((error: unknown) => showError(error, 'Pack builder'));

  setStatus('Loading models…');
  const stylizer = await createStylizer(requested, providers);
  demo.stylizer = stylizer;
  ui.pack.value = demo.packId;
  showPackInfo(demo.packId);
  updateAlphaRange(stylizer);
  applyStrength(stylizer);

  stylizer.stats$.subscribe((stats) => {
    demo.lastStats = stats;
    ui.overlay.textContent = formatStats(stats);
  });
  stylizer.events$.subscribe((event) => {
    if (event.type === 'state') {
      const text = event.state === 'stylizing' ? `Stylizing ${event.faces} face(s) on ${stylizer.executionProvider}.` : 'No face in view: frames pass through unchanged.';
      setStatus(text + sourceNote);
    }
    else if (event.type === 'warning') setStatus(`${event.warning.code}: ${event.warning.message}`);
    else showError(event.error, 'Pipeline error');
  });

  ui.pack.disabled = false;
  ui.pack.addEventListener('change', async () => {
    const id = ui.pack.value;
    ui.pack.disabled = true;
    clearError();
    setStatus(`Loading style pack ${id}…`);
    try {
      await stylizer.setPack(id === NO_PACK ? null : (packUrl(id) as string));
      demo.packId = id;
      showPackInfo(id);
      updateAlphaRange(stylizer);
      setStatus(`Style: ${ui.pack.selectedOptions[0]?.textContent ?? id}.`);
    } catch (error) {
      // The previous style keeps running.
      showError(error, `Style pack "${id}" refused`);
      ui.pack.value = demo.packId;
    } finally {
      ui.pack.disabled = false;
    }
  });
  ui.strength.addEventListener('input', () => {
    ui.strengthValue.textContent = Number(ui.strength.value).toFixed(2);
    applyStrength(stylizer);
  });
  ui.exaggeration.addEventListener('input', () => {
    ui.exaggerationValue.textContent = Number(ui.exaggeration.value).toFixed(2);
    stylizer.setOptions({ exaggeration: Number(ui.exaggeration.value) });
  });
  ui.grade.addEventListener('input', () => {
    ui.gradeValue.textContent = Number(ui.grade.value).toFixed(2);
    stylizer.setOptions({ grade: Number(ui.grade.value) });
  });
  ui.before.addEventListener('change', () => applyStrength(stylizer));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'b' && !(event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement)) {
      ui.before.checked = !ui.before.checked;
      applyStrength(stylizer);
    }
  });
  ui.source.addEventListener('change', () => {
    startSource(stylizer, ui.source.value as SourceKind).catch((error: unknown) => showError(error, 'Source'));
  });
  const resolution = params.get('resolution');
  if (resolution && [...ui.resolution.options].some((option) => option.value === resolution)) ui.resolution.value = resolution;
  ui.resolution.addEventListener('change', () => {
    startSource(stylizer, 'camera').catch((error: unknown) => showError(error, 'Camera resolution'));
  });

  await startSource(stylizer, params.get('source') === 'clip' ? 'clip' : 'camera');
  demo.ready = true;
}

main().catch((error: unknown) => {
  showError(error, 'Could not start');
  setStatus('Not running.');
});
