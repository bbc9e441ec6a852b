param($ModulePath, $Keys)
