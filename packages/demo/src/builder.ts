/**
 * The pack builder panel: drop one style image (or a real photo and its stylised version), name
 * it, Build. The demo server (scripts/serve-demo.mjs, /api/pack-jobs) runs the same
 * `face-stylizer pack build` as the terminal, one at a time; this panel shows every job the server
 * has (so a reload finds a running build again), its progress and ETA, cancels, and offers the
 * finished pack in the picker and as a .tar download.
 */

const API = new URL('./api/pack-jobs', location.href).href;
const POLL_MS = 1000;

export interface PackJob {
  readonly id: string;
  readonly name: string;
  readonly packId: string;
  readonly mode: 'pair' | 'style-only';
  readonly state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  readonly stage?: string;
  /** 0..1 over the whole build. */
  readonly fraction: number;
  readonly etaSeconds?: number;
  readonly error?: string;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly archiveUrl?: string;
}

export interface BuilderOptions {
  /** A build finished: refresh the picker (the pack is in the server's index.json now). */
  onPackBuilt(packId: string): Promise<void>;
  /** "Use" on a finished build: select the pack. */
  onUsePack(packId: string): void;
}

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const formatSeconds = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s` : `${Math.round(s)} s`);

async function asBase64(file: File): Promise<string> {
  const url = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
  return url.slice(url.indexOf(',') + 1);
}

export async function initBuilder(options: BuilderOptions): Promise<void> {
  const ui = {
    section: element<HTMLElement>('builder'),
    form: element<HTMLFormElement>('builder-form'),
    real: element<HTMLInputElement>('builder-real'),
    style: element<HTMLInputElement>('builder-style'),
    name: element<HTMLInputElement>('builder-name'),
    start: element<HTMLButtonElement>('builder-start'),
    error: element<HTMLParagraphElement>('builder-error'),
    jobs: element<HTMLOListElement>('builder-jobs'),
  };
  // only where the demo server runs (a static copy of the demo has no builder)
  const first = await fetch(API, { cache: 'no-store' }).catch(() => undefined);
  if (!first?.ok) return;
  ui.section.hidden = false;
  const files: { real?: File; style?: File } = {};
  const announced = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const showFile = (role: 'real' | 'style') => {
    const label = ui.section.querySelector<HTMLElement>(`#drop-${role} .file`);
    if (label) label.textContent = files[role]?.name ?? '';
    if (role === 'style' && files.style && !ui.name.value) ui.name.value = files.style.name.replace(/\.[^.]*$/, '');
  };
  const setFile = (role: 'real' | 'style', file: File | undefined) => {
    files[role] = file;
    showFile(role);
  };
  ui.real.addEventListener('change', () => setFile('real', ui.real.files?.[0]));
  ui.style.addEventListener('change', () => setFile('style', ui.style.files?.[0]));
  for (const role of ['real', 'style'] as const) {
    const zone = element<HTMLElement>(`drop-${role}`);
    zone.addEventListener('dragover', (event) => {
      event.preventDefault();
      zone.classList.add('over');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (event) => {
      event.preventDefault();
      event.stopPropagation();
      zone.classList.remove('over');
      const dropped = [...(event.dataTransfer?.files ?? [])];
      if (dropped.length >= 2) assignPair(dropped);
      else setFile(role, dropped[0]);
    });
  }
  // two files dropped anywhere on the panel: the one named *style* (else the second) is the style
  const assignPair = (dropped: File[]) => {
    const style = dropped.find((f) => /style/i.test(f.name)) ?? dropped[1]!;
    setFile('style', style);
    setFile('real', dropped.find((f) => f !== style));
  };
  ui.section.addEventListener('dragover', (event) => event.preventDefault());
  ui.section.addEventListener('drop', (event) => {
    event.preventDefault();
    const dropped = [...(event.dataTransfer?.files ?? [])];
    if (dropped.length >= 2) assignPair(dropped);
    else if (dropped[0]) setFile('style', dropped[0]);
  });

  const showError = (text: string | undefined) => {
    ui.error.textContent = text ?? '';
    ui.error.hidden = !text;
  };

  ui.form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(undefined);
    files.style ??= ui.style.files?.[0];
    files.real ??= ui.real.files?.[0];
    if (!files.style) return showError('Choose or drop a style image.');
    ui.start.disabled = true;
    try {
      const body = {
        name: ui.name.value,
        style: { filename: files.style.name, data: await asBase64(files.style) },
        ...(files.real ? { real: { filename: files.real.name, data: await asBase64(files.real) } } : {}),
      };
      const response = await fetch(API, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const reply = (await response.json()) as { job?: PackJob; error?: string };
      if (!response.ok || !reply.job) throw new Error(reply.error ?? `HTTP ${response.status}`);
      ui.form.reset();
      setFile('real', undefined);
      setFile('style', undefined);
      await refresh();
    } catch (error) {
      showError(`The build could not start: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      ui.start.disabled = false;
    }
  });

  const render = (jobs: PackJob[]) => {
    ui.jobs.replaceChildren(
      ...jobs
        .slice()
        .reverse()
        .map((job) => {
          const item = document.createElement('li');
          item.className = `job ${job.state}`;
          item.dataset['jobId'] = job.id;
          item.dataset['state'] = job.state;
          const title = document.createElement('span');
          title.className = 'job-title';
          title.textContent = `${job.name} (${job.mode === 'pair' ? 'real + style' : 'style only'})`;
          const progress = document.createElement('progress');
          progress.max = 1;
          progress.value = job.fraction;
          const detail = document.createElement('span');
          detail.className = 'job-detail';
          const elapsed = job.startedAt ? ((job.finishedAt ?? Date.now()) - job.startedAt) / 1000 : 0;
          detail.textContent =
            job.state === 'queued' ? 'waiting for the build before it'
            : job.state === 'running' ? `${job.stage ?? ''} ${Math.round(job.fraction * 100)} %${job.etaSeconds !== undefined ? ` · about ${formatSeconds(job.etaSeconds)} left` : ''} · ${formatSeconds(elapsed)} so far`
            : job.state === 'succeeded' ? `done in ${formatSeconds(elapsed)}: “${job.packId}” is in the style-pack picker`
            : job.state === 'cancelled' ? 'cancelled'
            : `failed: ${job.error ?? 'unknown error'}`;
          item.append(title, progress, detail);
          if (job.state === 'queued' || job.state === 'running') {
            const cancel = document.createElement('button');
            cancel.type = 'button';
            cancel.textContent = 'Cancel';
            cancel.className = 'job-cancel';
            cancel.addEventListener('click', async () => {
              cancel.disabled = true;
              await fetch(`${API}/${job.id}`, { method: 'DELETE' }).catch(() => undefined);
              await refresh();
            });
            item.append(cancel);
          }
          if (job.state === 'succeeded') {
            const use = document.createElement('button');
            use.type = 'button';
            use.textContent = 'Use';
            use.addEventListener('click', () => options.onUsePack(job.packId));
            const download = document.createElement('a');
            download.href = new URL(job.archiveUrl ?? `${API}/${job.id}/archive`, location.href).href;
            download.download = `${job.packId}.tar`;
            download.textContent = 'Download .tar';
            item.append(use, download);
          }
          return item;
        }),
    );
  };

  const refresh = async (): Promise<void> => {
    clearTimeout(timer);
    let jobs: PackJob[] = [];
    try {
      const response = await fetch(API, { cache: 'no-store' });
      jobs = ((await response.json()) as { jobs: PackJob[] }).jobs;
    } catch {
      // the server went away; try again at the next poll
    }
    render(jobs);
    for (const job of jobs) {
      if (job.state === 'succeeded' && !announced.has(job.id)) {
        announced.add(job.id);
        await options.onPackBuilt(job.packId).catch(() => undefined);
      }
    }
    if (jobs.some((job) => job.state === 'queued' || job.state === 'running')) timer = setTimeout(refresh, POLL_MS);
  };
  // builds that finished before this page loaded are already in the picker
  const initial = ((await first.json()) as { jobs: PackJob[] }).jobs;
  for (const job of initial) if (job.state === 'succeeded') announced.add(job.id);
  await refresh();
}
