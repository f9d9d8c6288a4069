import { FaceStylizer } from '@face-stylizer/sdk';

// The SDK README's example, as written.
const stylizer = await FaceStylizer.create({ pack: 'anime' });
document.body.append(stylizer.canvas);
stylizer.stylize(await FaceStylizer.openCamera()).subscribe({
  next: (frame) => {
    if (frame.faces.some((face) => face.stylized)) document.body.dataset.status = 'stylizing';
  },
  error: (error) => {
    document.body.dataset.status = 'error';
    document.body.dataset.error = String(error);
  },
});
