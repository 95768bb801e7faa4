/**
 * Former home of the component loader, kept so existing imports keep working; see
 * {@link ./loader.ts}.
 *
 * @module
 */

export { ComponentError, componentUrl, implementationsOf } from "./loader.ts";
import { loadComponent as load } from "./loader.ts";
import type { Implementation } from "../core/implement.ts";

/** Imports a component module (auto loader) and returns its implementations. */
export async function loadComponent(url: URL): Promise<Implementation[]> {
  return (await load(url)).implementations;
}
