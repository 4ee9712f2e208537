// The param a server validation message is about ("job J: parameter 'who' must be ..."), so the
// Trigger form shows it at that field.
export function fieldOfMessage(message: string): string | null {
  const m = /parameter '([^']+)'/.exec(message);
  return m ? m[1] : null;
}
