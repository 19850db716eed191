/**
 * The namespace of the platform's own metrics: every PlatformFunction publishes its EMF metrics there
 * (POWERTOOLS_METRICS_NAMESPACE), and every alarm and dashboard on them reads it from here, so renaming it
 * cannot leave an alarm watching nothing.
 */
export const METRICS_NAMESPACE = 'PersonalizationPlatform';
