// DataIO
