// The engine's and ffmpeg's ways of saying that a file is not media they can read. The gateway and the notifier
// both turn such a reason into words for the owner ("could not be read as audio"), so they share the one list.
const UNREADABLE = [
  /could not interpret/i,
  /\berror 40(?:00|01|04|06)\b/i,
  /invalid data found/i,
  /no (?:audio|video) stream/i,
  /moov atom not found/i,
  /unsupported codec|unknown codec|could not find codec/i,
  /^the image could not be processed/i,
  /not an? (?:audio|video|media) file/i,
];

/** True when a failure's reason says the file could not be read as media (rather than a fault of ours). */
export function saysUnreadable(reason: string): boolean {
  return UNREADABLE.some((re) => re.test(reason));
}
