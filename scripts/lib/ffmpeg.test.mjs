import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertUnlessUpToDate, fakeCameraMjpeg, hasFfmpeg, isUpToDate, letterboxFilter } from './ffmpeg.mjs';

const dir = mkdtempSync(join(tmpdir(), 'ffmpeg-lib-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Width × height of the first video stream, read back with ffprobe. */
function frameSize(file) {
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return probe.stdout.trim();
}

describe.skipIf(!hasFfmpeg())('convertUnlessUpToDate', () => {
  // a 2-frame portrait clip: letterboxing must keep all of it inside 640×480
  const source = join(dir, 'portrait.mkv');
  spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=240x320:rate=30', '-frames:v', '2', '-c:v', 'mjpeg', source]);
  const target = join(dir, 'out', 'portrait.mjpeg');
  const outputArgs = ['-vf', letterboxFilter(640, 480), '-q:v', '3', '-f', 'mjpeg'];

  it('converts a missing target into the letterboxed size, then leaves it alone until the source changes', () => {
    expect(convertUnlessUpToDate(source, target, { outputArgs })).toBe(true);
    expect(frameSize(target)).toBe('640,480');
    expect(isUpToDate(source, target)).toBe(true);
    expect(convertUnlessUpToDate(source, target, { outputArgs })).toBe(false);
    const later = new Date(Date.now() + 60_000);
    utimesSync(source, later, later);
    expect(isUpToDate(source, target)).toBe(false);
    expect(convertUnlessUpToDate(source, target, { outputArgs })).toBe(true);
  });

  it('throws on a failed conversion and leaves neither the target nor a partial file', () => {
    const broken = join(dir, 'not-a-video.mkv');
    spawnSync('sh', ['-c', `echo 'not a video' > ${broken}`]);
    const bad = join(dir, 'bad', 'bad.mjpeg');
    expect(() => convertUnlessUpToDate(broken, bad, { outputArgs })).toThrow(/could not convert/);
    expect(existsSync(bad)).toBe(false);
    expect(readdirSync(join(dir, 'bad'))).toEqual([]);
  });
});

describe.skipIf(!hasFfmpeg())('fakeCameraMjpeg', () => {
  it('writes a silent MJPEG of the asked size and frame count', () => {
    const source = join(dir, 'with-audio.mkv');
    spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=30', '-f', 'lavfi', '-i', 'sine',
      '-frames:v', '5', '-t', '0.2', '-c:v', 'mjpeg', '-c:a', 'pcm_s16le', source]);
    const target = join(dir, 'camera', 'clip.mjpeg');
    expect(fakeCameraMjpeg(source, target, { videoFilter: letterboxFilter(640, 480), frames: 3 })).toBe(true);
    expect(frameSize(target)).toBe('640,480');
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'csv=p=0', target], { encoding: 'utf8' });
    expect(probe.stdout.trim().split('\n')).toEqual(['mjpeg,3']);
    expect(fakeCameraMjpeg(source, target)).toBe(false);
  });
});
