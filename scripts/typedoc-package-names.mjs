// TypeDoc plugin (typedoc.json): names each entry point's module after its npm package
// (`@berth/core`, `@berth/core/testing`...) instead of its path (`core/src`), without a @module
// tag in the packages' index files.
import { Converter } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const mod of context.project.children ?? []) {
      const m = /^(?:packages\/)?([a-z-]+)\/src(\/testing)?$/.exec(mod.name);
      if (m) mod.name = `@berth/${m[1]}${m[2] ?? ''}`;
    }
  });
}
