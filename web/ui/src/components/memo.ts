// A component that redraws only when one of its props changed (by identity), as preact/compat's
// memo, without compat: importing compat would also install its React emulation (onChange
// becomes onInput on text fields, among others) for the whole page. Signals read by `inner`
// still redraw it: they subscribe the inner component, not this wrapper.
import { createElement, type Component, type FunctionComponent } from 'preact';

export function memo<P extends object>(inner: FunctionComponent<P>): FunctionComponent<P> {
  function changed(this: Component<P>, next: P): boolean {
    const prev = this.props as Record<string, unknown>;
    const now = next as Record<string, unknown>;
    for (const k in now) if (now[k] !== prev[k]) return true;
    for (const k in prev) if (!(k in now)) return true;
    return false;
  }
  function Memoed(this: Component<P>, props: P) {
    this.shouldComponentUpdate = changed;
    return createElement(inner, props);
  }
  Memoed.displayName = `memo(${inner.displayName ?? inner.name})`;
  return Memoed;
}
