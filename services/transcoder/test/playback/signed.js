// Every object of the stream is private: S3 answers only a request that carries a signature. The test
// presigns each object's GET and hands the page window.PLAYBACK.signed (object URL, no query → presigned
// URL). A master names its variants and segments by relative URIs, which the player resolves against the
// presigned URL it came from and so loses the signature; each player asks signedUrl() for the URL it is
// about to load, through its own extension point (hls.js xhrSetup, dash.js addRequestInterceptor).
// A URL with no presigned twin is kept in window.PLAYBACK.unsigned, for the test to see.
window.signedUrl = (url) => {
  const signed = window.PLAYBACK.signed[url.split('?')[0]];
  if (signed) return signed;
  window.PLAYBACK.unsigned.push(url);
  return url;
};
