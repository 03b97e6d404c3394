// libpng, simplified API only (png_image_*): it catches its own longjmp, so none reaches Swift.
#include <png.h>
static inline unsigned int cpng_format_gray(void) { return PNG_FORMAT_GRAY; }
static inline unsigned int cpng_format_rgb(void) { return PNG_FORMAT_RGB; }
static inline unsigned int cpng_image_version(void) { return PNG_IMAGE_VERSION; }
