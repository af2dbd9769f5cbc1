export { type CatalogChange, CatalogStore, catalogChanges, type StoredDataset } from './catalog-store.js';
export {
  type DatasetRecord,
  datasetId,
  datasetRecord,
  type SinkLocation,
  sinkLocation,
  structureHash,
} from './dataset-record.js';
