// Video conversions the scripts share: set-up's fake-camera clips, eval:display's other
// resolutions and the bench's raw-frame clips are all "ffmpeg SOURCE → TARGET unless TARGET is
// up to date".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** True when `target` exists and is not older than `source`. */
export function isUpToDate(source, target) {
  return existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs;
}

/**
 * Converts `source` into `target` with ffmpeg (`inputArgs` before `-i`, `outputArgs` after it,
 * ending with the format, e.g. `['-f', 'mjpeg']`), unless `target` is up to date. ffmpeg writes
 * `TARGET.tmp`, renamed only on success: an interrupted conversion never leaves a half file that
 * looks up to date. Returns true when it converted; throws when ffmpeg fails.
 */
export function convertUnlessUpToDate(source, target, { inputArgs = [], outputArgs }) {
  if (isUpToDate(source, target)) return false;
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.tmp`;
  const made = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', ...inputArgs, '-i', source, ...outputArgs, partial], { stdio: 'inherit' });
  if (made.status !== 0) {
    rmSync(partial, { force: true });
    throw new Error(`ffmpeg could not convert ${source} into ${target} (exit ${made.status ?? made.error?.message})`);
  }
  renameSync(partial, target);
  return true;
}

/** The filter that fits a clip into width × height at 30 fps without cropping: portrait clips
 * are letterboxed, as a webcam driver would, so no face is cut off. */
export function letterboxFilter(width, height) {
  return `fps=30,scale=${width}:${height}:force_original_aspect_ratio=decrease,` +
    `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
}

/**
 * Converts a clip into the MJPEG that Chromium's fake camera reads (`--use-file-for-fake-video-capture`),
 * unless up to date: no audio, JPEG quality 3 (fine enough that the camera image is not what
 * eval:display measures), `videoFilter` (e.g. `letterboxFilter(640, 480)`) and `frames` optional.
 * Returns true when it converted.
 */
export function fakeCameraMjpeg(source, target, { videoFilter, frames } = {}) {
  const outputArgs = ['-an', ...(videoFilter ? ['-vf', videoFilter] : []), ...(frames ? ['-frames:v', String(frames)] : []), '-q:v', '3', '-f', 'mjpeg'];
  return convertUnlessUpToDate(source, target, { outputArgs });
}

/** Whether ffmpeg can be run here. */
export const hasFfmpeg = () => spawnSync('ffmpeg', ['-version']).status === 0;
