// zlib's gz* file API, used only by the data-preparation tool to read .gz sources.
#include <zlib.h>
