/**
 * Decision events: the {@link dev.sluice.event.DecisionListener} through which metrics, the audit
 * log and the dashboard observe every decision without the engine knowing about any of them.
 */
package dev.sluice.event;
