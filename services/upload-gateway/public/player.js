// The video player, loaded when a video is opened: hls.js where the browser has Media Source Extensions (it
// switches between the stream's renditions by bandwidth), the browser's own HLS where it has none (iPhone
// Safari before 17.1), else nothing (the MP4 in Downloads still plays). The engine used and the count of
// fragments loaded are left on the element's dataset for anyone curious (and for the page's tests).

const hasMse = () => 'MediaSource' in window || 'ManagedMediaSource' in window;

export async function playStream(video, masterUrl, onProblem) {
  if (!hasMse() && video.canPlayType('application/vnd.apple.mpegurl')) return native(video, masterUrl);
  const { default: Hls } = await import('/vendor/hls.mjs');
  if (!Hls.isSupported()) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) return native(video, masterUrl);
    onProblem('This browser cannot play the stream. Download the MP4 below instead.');
    return { destroy() {} };
  }
  const hls = new Hls({ capLevelToPlayerSize: true, maxBufferLength: 30 });
  video.dataset.engine = 'hls.js';
  video.dataset.fragments = '0';
  hls.on(Hls.Events.FRAG_LOADED, () => {
    video.dataset.fragments = String(Number(video.dataset.fragments) + 1);
  });
  let recovered = false;
  hls.on(Hls.Events.ERROR, (_e, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true;
      hls.recoverMediaError();
      return;
    }
    const status = data.response?.code;
    onProblem(
      status === 403
        ? 'This stream link has expired. Close and open the video again.'
        : 'The video stopped loading. Check your connection, then close and open it again.',
    );
    hls.destroy();
  });
  hls.loadSource(masterUrl);
  hls.attachMedia(video);
  return {
    destroy() {
      hls.destroy();
      video.removeAttribute('src');
    },
  };
}

function native(video, masterUrl) {
  video.dataset.engine = 'native';
  video.src = masterUrl;
  return {
    destroy() {
      video.pause();
      video.removeAttribute('src');
      video.load();
    },
  };
}
