import type { Subscription } from 'rxjs';
import { FaceStylizerError } from '../errors';
import { videoSourceError } from '../frames';
import { FaceStylizer } from './face-stylizer';

// The SDK bundle may be loaded in a worker (onnxruntime-web starts its workers from its own
// script URL), where HTMLElement does not exist; the element is then simply unavailable.
const ElementBase = (typeof HTMLElement === 'undefined' ? class {} : HTMLElement) as typeof HTMLElement;

const OBSERVED = ['src', 'pack', 'strength', 'exaggeration', 'grade', 'asset-base', 'num-faces'] as const;

/**
 * `<face-stylizer asset-base="/assets/" src="clip.mp4" pack="packs/toon/" strength="0.8"
 * exaggeration="1" grade="1">`: stylizes the clip in `src`, or the camera when there is none
 * (`grade`: how much of the pack's colours cover the whole frame, 0–1).
 * Events: `ready` (detail: { executionProvider }), `error` (detail: the typed error),
 * `stats` (detail: PipelineStats, once a second), `state` and `warning`.
 */
export class FaceStylizerElement extends ElementBase {
  static readonly observedAttributes = OBSERVED;

  private stylizer: FaceStylizer | undefined;
  private readonly subscriptions: Subscription[] = [];
  private stream: MediaStream | undefined;
  private video: HTMLVideoElement | undefined;
  private generation = 0;
  private restartScheduled = false;
  private readonly canvas = document.createElement('canvas');

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = ':host{display:inline-block}canvas{display:block;width:100%;height:auto}';
    root.append(style, this.canvas);
  }

  /** The running stylizer (after `ready`), for the library API. */
  get faceStylizer(): FaceStylizer | undefined {
    return this.stylizer;
  }

  connectedCallback(): void {
    this.scheduleRestart();
  }

  disconnectedCallback(): void {
    this.generation++;
    void this.stop();
  }

  attributeChangedCallback(name: (typeof OBSERVED)[number], oldValue: string | null, value: string | null): void {
    if (!this.isConnected || oldValue === value) return;
    const stylizer = this.stylizer;
    if (name === 'strength' || name === 'exaggeration' || name === 'grade' || name === 'num-faces') {
      stylizer?.setOptions(this.numericOptions());
    } else if (name === 'pack' && stylizer) {
      stylizer.setPack(value).catch((error: unknown) => {
        // A later pack attribute replaced this one: not an error of the element.
        if (!(error instanceof FaceStylizerError && error.code === 'superseded')) this.emit('error', error);
      });
    } else {
      this.scheduleRestart(); // source or asset base changed (or the pack, before the stylizer exists)
    }
  }

  /**
   * Restarts once for everything that changes in one task: an element declared in HTML gets
   * `attributeChangedCallback` for each attribute and `connectedCallback` at upgrade, and must
   * still start one pipeline, not one per callback.
   */
  private scheduleRestart(): void {
    if (this.restartScheduled) return;
    this.restartScheduled = true;
    queueMicrotask(() => {
      this.restartScheduled = false;
      if (this.isConnected) void this.restart();
    });
  }

  private numericOptions() {
    const number = (name: string) => {
      const value = this.getAttribute(name);
      return value === null || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);
    };
    const numFaces = number('num-faces');
    return {
      ...(number('strength') !== undefined ? { strength: number('strength') as number } : {}),
      ...(number('exaggeration') !== undefined ? { exaggeration: number('exaggeration') as number } : {}),
      ...(number('grade') !== undefined ? { grade: number('grade') as number } : {}),
      ...(numFaces !== undefined ? { numFaces: Math.max(1, Math.round(numFaces)) } : {}),
    };
  }

  private async restart(): Promise<void> {
    const generation = ++this.generation;
    await this.stop();
    try {
      const pack = this.getAttribute('pack');
      const stylizer = await FaceStylizer.create({
        ...(this.hasAttribute('asset-base') ? { assetBase: this.getAttribute('asset-base')! } : {}),
        canvas: this.canvas,
        ...(pack ? { pack } : {}),
        ...this.numericOptions(),
      });
      if (generation !== this.generation) return void (await stylizer.close());
      this.stylizer = stylizer;
      const source = await this.openSource();
      if (generation !== this.generation) return;
      this.subscriptions.push(
        stylizer.stylize(source).subscribe({ error: () => undefined /* reported through events$ */ }),
        stylizer.events$.subscribe((event) => {
          if (event.type === 'error') this.emit('error', event.error);
          else if (event.type === 'warning') this.emit('warning', event.warning);
          else this.emit('state', { state: event.state, faces: event.faces });
        }),
        stylizer.stats$.subscribe((stats) => this.emit('stats', stats)),
      );
      this.emit('ready', { executionProvider: stylizer.executionProvider });
    } catch (error) {
      if (generation === this.generation) this.emit('error', error);
    }
  }

  private async openSource(): Promise<HTMLVideoElement | MediaStream> {
    const src = this.getAttribute('src');
    if (!src) return (this.stream = await FaceStylizer.openCamera());
    const video = document.createElement('video');
    video.muted = true;
    video.loop = true;
    video.playsInline = true;
    video.crossOrigin = 'anonymous';
    video.src = src;
    this.video = video;
    try {
      await video.play();
    } catch (cause) {
      throw videoSourceError(video, cause);
    }
    return video;
  }

  private async stop(): Promise<void> {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = undefined;
    if (this.video) {
      this.video.pause();
      this.video.removeAttribute('src');
      this.video = undefined;
    }
    const stylizer = this.stylizer;
    this.stylizer = undefined;
    await stylizer?.close();
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** Registers `<face-stylizer>` (idempotent). Importing the SDK calls it once in a browser. */
export function defineFaceStylizerElement(tagName = 'face-stylizer'): void {
  if (typeof customElements !== 'undefined' && !customElements.get(tagName)) {
    customElements.define(tagName, class extends FaceStylizerElement {});
  }
}
